/**
 * Where the SDK keeps its state between app launches: plain async key/value, so that React Native
 * (a secure store), browsers (localStorage) and Node (a file) all fit.
 *
 * Several SDK instances may share one store (two browser tabs, two processes on one file, two
 * clients in one app). They never present a refresh token another instance already rotated: every
 * change happens under a lock and starts by re-reading the store. The lock is, in this order:
 * the store's own `lock` (fileStorage: an exclusive lock file), the Web Locks API where present and
 * the store has a `name`, otherwise a lock inside this JavaScript context keyed by `name` (or by
 * the store object itself).
 */
export interface SdkStorage {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
  /**
   * Identifies the underlying store, so that instances on the same store share one lock and one
   * status channel (BroadcastChannel) even when each has its own adapter object. Two stores that
   * share a name must share their contents.
   */
  readonly name?: string;
  /** Runs `fn` holding a lock that excludes every other process using the same store. */
  lock?<T>(fn: () => Promise<T>): Promise<T>;
}

/** The three calls of an async key/value store (expo-secure-store, AsyncStorage, a keychain wrapper). */
export interface KeyValueStore {
  getItem(key: string): Promise<string | null | undefined>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/**
 * Adapts any async key/value store. Keys are `prefix` + the SDK's key (`state.v1`), made only of
 * letters, digits, `.`, `-` and `_`, which is what expo-secure-store accepts.
 */
export function keyValueStorage(store: KeyValueStore, options: { prefix?: string; name?: string } = {}): SdkStorage {
  const prefix = options.prefix ?? "tokendesk.";
  return {
    name: options.name ?? `kv:${prefix}`,
    get: async (k) => (await store.getItem(prefix + k)) ?? null,
    set: (k, v) => store.setItem(prefix + k, v),
    remove: (k) => store.removeItem(prefix + k),
  };
}

/** The part of the Web Storage API (`localStorage`, `sessionStorage`) the adapter uses. */
export interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** In memory: nothing survives a restart (tests, server-side scripts). */
export function memoryStorage(): SdkStorage {
  const map = new Map<string, string>();
  return {
    get: async (k) => map.get(k) ?? null,
    set: async (k, v) => void map.set(k, v),
    remove: async (k) => void map.delete(k),
  };
}

/**
 * Browser storage. Tokens in localStorage are readable by any script on the origin: prefer a secure
 * store on mobile; this adapter exists for web apps that accept that trade-off. Tabs of one origin
 * share it, so they coordinate through Web Locks and a BroadcastChannel named after the prefix.
 */
export function localStorageAdapter(prefix = "tokendesk:", store: WebStorage = globalThis.localStorage): SdkStorage {
  return {
    name: `localStorage:${prefix}`,
    get: async (k) => store.getItem(prefix + k),
    set: async (k, v) => store.setItem(prefix + k, v),
    remove: async (k) => store.removeItem(prefix + k),
  };
}
