/**
 * Where the SDK keeps its state between app launches. Plain async key/value so that React Native
 * (AsyncStorage / a secure store), browsers (localStorage) and Node (a file) all fit.
 */
export interface SdkStorage {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

export function memoryStorage(): SdkStorage {
  const map = new Map<string, string>();
  return {
    get: async (k) => map.get(k) ?? null,
    set: async (k, v) => void map.set(k, v),
    remove: async (k) => void map.delete(k),
  };
}

/** Browser storage. Tokens in localStorage are readable by any script on the origin: prefer a
 *  secure store on mobile; this adapter exists for web apps that accept that trade-off. */
export function localStorageAdapter(prefix = "tokendesk:", store: Storage = globalThis.localStorage): SdkStorage {
  return {
    get: async (k) => store.getItem(prefix + k),
    set: async (k, v) => store.setItem(prefix + k, v),
    remove: async (k) => store.removeItem(prefix + k),
  };
}
