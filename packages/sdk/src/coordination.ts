/**
 * How SDK instances that share one store take turns and hear about each other's changes.
 * Locks: the store's own (a lock file), else Web Locks (tabs of one origin, as supabase-js does
 * for the same race), else a promise chain inside this JavaScript context. Notifications: a
 * BroadcastChannel where the runtime has one; other processes re-read the store instead.
 */
import type { SdkStorage } from "./storage";

export interface Coordinator {
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Tells other instances on the same store that its contents changed. */
  announce(): void;
  close(): void;
}

interface LockManagerLike {
  request<T>(name: string, options: { mode: "exclusive" }, callback: () => Promise<T>): Promise<T>;
}

// One chain per store for instances in this context; module-level so that every client shares it.
const localChains = new Map<unknown, Promise<unknown>>();

function localLock<T>(key: unknown, fn: () => Promise<T>): Promise<T> {
  const previous = localChains.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  localChains.set(key, tail);
  void tail.then(() => {
    if (localChains.get(key) === tail) localChains.delete(key);
  });
  return run;
}

export function coordinatorFor(storage: SdkStorage, baseUrl: string, onRemoteChange: () => void): Coordinator {
  const name = storage.name ? `tokendesk:${baseUrl}:${storage.name}` : null;
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;

  let withLock: Coordinator["withLock"];
  if (storage.lock) withLock = (fn) => localLock(name ?? storage, () => storage.lock!(fn));
  else if (name && locks) withLock = (fn) => locks.request(name, { mode: "exclusive" }, fn);
  else withLock = (fn) => localLock(name ?? storage, fn);

  let channel: BroadcastChannel | null = null;
  if (name && typeof globalThis.BroadcastChannel === "function") {
    channel = new BroadcastChannel(name);
    channel.onmessage = () => onRemoteChange();
    // Node's channel would otherwise keep a script alive after its last call.
    (channel as { unref?: () => void }).unref?.();
  }
  return {
    withLock,
    announce: () => channel?.postMessage("changed"),
    close: () => channel?.close(),
  };
}
