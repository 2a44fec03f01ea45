/**
 * The one structured logger (pino): JSON lines on stdout, one object per event, `instance` on every
 * line. Secrets are removed by path (`redact`) before a line is written, so a careless
 * `log.info({ headers })` still cannot leak a key; the access log itself never carries a raw URL or
 * headers (server/ logs the route pattern). `LOG_LEVEL` sets the level; `npm run dev` prints pretty
 * lines instead of JSON.
 *
 * Kept on globalThis: the front (server.ts) and Next's server bundle may each load their own copy of
 * lib/, and both must write through one logger with one level.
 */
import { createRequire } from "node:module";
import os from "node:os";
import pino, { type DestinationStream, type Logger } from "pino";
import { config, type LogLevel } from "@/lib/config/env";

/** Paths (pino redact syntax) that may hold a secret, wherever a caller put them. */
export const REDACT_PATHS = [
  "password",
  "newPassword",
  "secret",
  "token",
  "key",
  "apiKey",
  "instanceKey",
  "refreshToken",
  "accessToken",
  "signInToken",
  "authorization",
  "cookie",
  "*.password",
  "*.secret",
  "*.token",
  "*.key",
  "*.apiKey",
  "*.instanceKey",
  "*.refreshToken",
  "*.accessToken",
  "*.signInToken",
  "*.refresh_token",
  "*.access_token",
  "*.sign_in_token",
  "*.subject_token",
  "*.authorization",
  "*.cookie",
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  'headers["x-vital-api-key"]',
  "headers.instancekey",
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-vital-api-key"]',
  "req.headers.instancekey",
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  level?: LogLevel;
  pretty?: boolean;
  /** Where lines go (tests); stdout by default. */
  destination?: DestinationStream;
}

/** This process's name on every log line and trace (TOKENDESK_INSTANCE, else the host name). */
export function instanceName(): string {
  return process.env.TOKENDESK_INSTANCE || os.hostname();
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? "info",
    base: { instance: instanceName(), pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    try {
      // A devDependency: present under `npm run dev`, absent from the production image.
      const pretty = createRequire(import.meta.url)("pino-pretty") as (o: object) => DestinationStream;
      return pino(options, pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }));
    } catch {
      /* not installed: JSON it is */
    }
  }
  return pino(options);
}

const globalForLog = globalThis as unknown as { __tokendeskLog?: Logger };

/** The process-wide logger, created on first use from the configuration. */
export function log(): Logger {
  if (!globalForLog.__tokendeskLog) {
    let level: LogLevel = "info";
    try {
      level = config().logLevel;
    } catch {
      /* a bad configuration is reported by whoever parses it; log at info meanwhile */
    }
    globalForLog.__tokendeskLog = createLogger({ level, pretty: process.env.NODE_ENV === "development" });
  }
  return globalForLog.__tokendeskLog;
}

/** Replaces the process-wide logger (tests capture lines this way). */
export function setLogger(logger: Logger): void {
  globalForLog.__tokendeskLog = logger;
}
