/**
 * db/pg-socket.ts: a large write waits for the small writes postgres.js flushes on the next
 * setImmediate (a COMMIT behind an audit INSERT) and leaves with them in one writev; small writes
 * alone are not held back; bytes arrive in the order written.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coalesceWrites, connectCoalescing } from "@/db/pg-socket";

let server: net.Server;
let port: number;
const received: Buffer[] = [];

beforeAll(async () => {
  server = net.createServer((s) => s.on("data", (d) => received.push(Buffer.from(d))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A connected, coalescing socket whose syscall-level writes are recorded (what each carried). */
async function recorded() {
  const socket = await connectCoalescing({ host: ["127.0.0.1"], port: [port], connect_timeout: 5 });
  const syscalls: string[] = [];
  const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = s._write.bind(socket);
  const writev = s._writev.bind(socket);
  s._write = (data, ...rest) => {
    syscalls.push(String(data));
    write(data, ...rest);
  };
  s._writev = (chunks, ...rest) => {
    syscalls.push((chunks as Array<{ chunk: Buffer }>).map((c) => String(c.chunk)).join(""));
    writev(chunks, ...rest);
  };
  return { socket, syscalls };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe("coalescing PostgreSQL socket", () => {
  it("sends a large write and the small one flushed on the next setImmediate in one write", async () => {
    received.length = 0;
    const { socket, syscalls } = await recorded();
    const large = "L".repeat(2000);
    // postgres.js: a chunk ≥ 1 KB is written at once; a small one (the COMMIT) on setImmediate.
    socket.write(Buffer.from(large));
    setImmediate(() => socket.write(Buffer.from("commit")));
    expect(syscalls).toEqual([]); // held back
    await turn();
    await turn();
    await turn();
    expect(syscalls).toEqual([`${large}commit`]);
    await until(() => Buffer.concat(received).length === large.length + 6);
    expect(String(Buffer.concat(received))).toBe(`${large}commit`);
    socket.destroy();
  });

  it("does not hold back a small write, and keeps the order of many", async () => {
    received.length = 0;
    const { socket, syscalls } = await recorded();
    socket.write(Buffer.from("begin"));
    expect(syscalls).toEqual(["begin"]); // written at once, as without the wrapper
    const parts = ["a".repeat(1500), "b", "c".repeat(1024), "d"];
    socket.write(Buffer.from(parts[0]!));
    socket.write(Buffer.from(parts[1]!));
    await turn();
    await turn();
    socket.write(Buffer.from(parts[2]!));
    setImmediate(() => socket.write(Buffer.from(parts[3]!)));
    await until(() => Buffer.concat(received).length === 5 + parts.join("").length);
    expect(String(Buffer.concat(received))).toBe(`begin${parts.join("")}`);
    expect(syscalls).toEqual(["begin", parts[0]! + parts[1]!, parts[2]! + parts[3]!]);
    socket.destroy();
  });

  it("refuses a connection that cannot be made, as postgres.js's own socket would", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const freePort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(connectCoalescing({ host: ["127.0.0.1"], port: [freePort] })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("wraps any socket in place", () => {
    const s = new net.Socket();
    expect(coalesceWrites(s)).toBe(s);
    s.destroy();
  });
});
