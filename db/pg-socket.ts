/**
 * The sockets postgres.js talks to PostgreSQL through (its documented `socket` option), with one
 * change: a large write waits a moment for what follows it, so both leave in one write syscall.
 *
 * postgres.js sends a query of 1 KB or more to its socket at once and anything smaller on the next
 * setImmediate. An operation's last write is typically a large audit INSERT (two rows with their
 * webhook event: ~2 KB) and its COMMIT is small, so they left in two syscalls, and PostgreSQL woke up
 * twice and answered twice. On this machine's loopback one socket write costs ~0.1 ms of the
 * sender's CPU (it also pays the receiver's TCP work and wake-up): a token exchange made three.
 *
 * Here a write of 1 KB or more corks the socket until two turns of the check phase have passed:
 * postgres.js flushes its small writes on setImmediate, and a COMMIT queued in the same turn as the
 * large write (commitWith, db/client.ts) is flushed in the first of them, so it joins the large write
 * and both go out in one writev when the socket is uncorked. Small writes alone are not delayed.
 * Nothing is reordered: cork only holds bytes back, in the order they were written.
 */
import net from "node:net";

/** postgres.js's own threshold (connection.js `write`): at or above it a chunk is written at once. */
const LARGE = 1024;

/** Makes `socket` hold a large write back until the writes that follow it in the same turn have joined it. */
export function coalesceWrites(socket: net.Socket): net.Socket {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (!corked && (chunk as { length?: number }).length! >= LARGE) {
      corked = true;
      socket.cork();
      setImmediate(() => setImmediate(uncork));
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof socket.write;
  return socket;
}

interface ConnectOptions {
  host: string[];
  port: number[];
  /** Seconds (postgres.js's option); its own timer only starts once the socket is connected. */
  connect_timeout?: number;
}

/**
 * postgres.js's `socket` option: a TCP connection to the (single) host, connected, writes coalesced.
 * A refused or timed-out connection rejects, which postgres.js reports as it does its own.
 */
export function connectCoalescing(o: ConnectOptions): Promise<net.Socket> {
  const host = o.host[0]!;
  const port = o.port[0]!;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)), (o.connect_timeout ?? 30) * 1000);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeListener("error", reject);
      // postgres.js reads these for TLS's server name, as on the sockets it makes itself.
      Object.assign(socket, { host, port });
      resolve(coalesceWrites(socket));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
