/**
 * Where the SDK keeps its state between app launches: plain async key/value, so that React Native
 * (a secure store), browsers (IndexedDB) and Node (a file) all fit.
 *
 * Several SDK instances may share one store (two browser tabs, two processes on one file, two
 * clients in one app). They never present a refresh token another instance already rotated: every
 * change happens under a lock and starts by re-reading the store. The lock is, in this order:
 * the store's own `lock` (fileStorage: an exclusive lock file), the Web Locks API where present and
 * the store has a `name`, otherwise a lock inside this JavaScript context keyed by `name` (or by
 * the store object itself).
 *
 * That only works if the store is coherent with the lock: a `get` made under the lock must return
 * what the previous holder `set` before it let go, whichever tab or process that was. A file, a
 * secure store in one app and IndexedDB are; `localStorage` shared by tabs is not (below).
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

const IDB_STORE = "kv";

/** The page's localStorage, if it has one it may use (a sandboxed frame throws on access). */
function pageLocalStorage(): WebStorage | null {
  try {
    return (globalThis as { localStorage?: WebStorage }).localStorage ?? null;
  } catch {
    return null;
  }
}

/** `indexedDB` (IDBFactory), typed loosely so that the declarations need no DOM library. */
export interface IndexedDbFactory {
  open(name: string, version?: number): unknown;
}

/**
 * Browser storage that tabs share coherently: IndexedDB (database `tokendesk`, one object store).
 * A write resolves once its transaction has committed, and the browser's one IndexedDB backend
 * serves every tab's reads, so the tab that takes the Web Lock next reads what the last holder
 * wrote. Tokens here are readable by any script on the origin, as in localStorage: prefer a secure
 * store on mobile; this adapter exists for web apps that accept that trade-off.
 *
 * A state that version 0.2's `localStorageAdapter` left in `localStorage` under the same prefix is
 * read until the first write, which moves it here (the app stays signed in across the upgrade).
 */
export function indexedDbStorage(options: { prefix?: string; database?: string; indexedDB?: IndexedDbFactory; legacy?: WebStorage | null } = {}): SdkStorage {
  const prefix = options.prefix ?? "tokendesk:";
  const database = options.database ?? "tokendesk";
  const legacy = options.legacy === undefined ? pageLocalStorage() : options.legacy;
  let opened: Promise<IDBDatabase> | null = null;
  const open = (): Promise<IDBDatabase> =>
    (opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const factory = (options.indexedDB ?? globalThis.indexedDB) as IDBFactory | undefined;
      if (!factory) return reject(new Error("IndexedDB is not available here."));
      const req = factory.open(database, 1);
      req.onupgradeneeded = () => void req.result.createObjectStore(IDB_STORE);
      req.onsuccess = () => {
        const db = req.result;
        // Another tab opening a newer version, or the browser closing the database: open again next time.
        db.onversionchange = () => {
          db.close();
          opened = null;
        };
        db.onclose = () => {
          opened = null;
        };
        resolve(db);
      };
      req.onerror = () => {
        opened = null;
        reject(req.error ?? new Error(`IndexedDB refused to open ${database}.`));
      };
    }));
  /** One transaction; settles when it has committed (a write is then visible to every tab). */
  const run = async <T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(IDB_STORE, mode);
      const req = op(tx.objectStore(IDB_STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = () => reject(tx.error ?? new Error("The IndexedDB transaction was aborted."));
    });
  };
  return {
    name: `indexedDB:${database}:${prefix}`,
    async get(k) {
      const value = await run<unknown>("readonly", (s) => s.get(prefix + k));
      if (typeof value === "string") return value;
      return legacy?.getItem(prefix + k) ?? null;
    },
    async set(k, v) {
      await run("readwrite", (s) => s.put(v, prefix + k));
      legacy?.removeItem(prefix + k);
    },
    async remove(k) {
      await run("readwrite", (s) => s.delete(prefix + k));
      legacy?.removeItem(prefix + k);
    },
  };
}

/**
 * Browser storage under `prefix`. Since 0.3, in a browser with IndexedDB and without an explicit
 * `store`, this is `indexedDbStorage({ prefix })`: `localStorage` is not coherent across tabs (each
 * renderer process reads its own copy, which another tab's write reaches later than the Web Lock
 * that tab released), so a tab could refresh with a token another tab had just rotated. With an
 * explicit `store` other than `localStorage` (e.g. `sessionStorage`, one tab's own) it is used as is.
 */
export function localStorageAdapter(prefix = "tokendesk:", store?: WebStorage): SdkStorage {
  const local = pageLocalStorage();
  if ((store === undefined || store === local) && typeof globalThis.indexedDB !== "undefined") {
    return indexedDbStorage({ prefix, legacy: local });
  }
  const web = store ?? local;
  if (!web) throw new Error("There is no localStorage here: pass a store, or use another adapter.");
  return {
    name: `localStorage:${prefix}`,
    get: async (k) => web.getItem(prefix + k),
    set: async (k, v) => web.setItem(prefix + k, v),
    remove: async (k) => web.removeItem(prefix + k),
  };
}
