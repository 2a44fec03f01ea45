import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/config/env";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "td-config-"));

describe("configuration", () => {
  it("defaults to the embedded database with a secret generated into the data directory", () => {
    const dir = tmp();
    const cfg = parseConfig({ TOKENDESK_DATA_DIR: dir });
    expect(cfg.mode).toBe("embedded");
    expect(cfg.publicUrl).toBe("http://localhost:3000");
    expect(cfg.secret.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(path.join(dir, "secret")).mode & 0o777).toBe(0o600);
    // The same directory gives the same secret on the next start.
    expect(parseConfig({ TOKENDESK_DATA_DIR: dir }).secret).toBe(cfg.secret);
  });

  it("reads CORS_ALLOWED_ORIGINS as exact origins and refuses wildcards and paths", () => {
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp() }).corsAllowedOrigins).toEqual([]);
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), CORS_ALLOWED_ORIGINS: " https://App.example.com , http://127.0.0.1:5173" }).corsAllowedOrigins).toEqual([
      "https://app.example.com",
      "http://127.0.0.1:5173",
    ]);
    for (const bad of ["*", "https://*.example.com", "https://app.example.com/", "https://app.example.com/path", "app.example.com"]) {
      expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(/^CORS_ALLOWED_ORIGINS /);
    }
  });

  it("seeds the demo team only on the embedded database and never with TOKENDESK_DEMO=0", () => {
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp() }).demo).toBe(true);
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), TOKENDESK_DEMO: "0" }).demo).toBe(false);
    const secret = "x".repeat(40);
    expect(parseConfig({ DATABASE_URL: "postgres://db.example/td", TOKENDESK_SECRET: secret, TOKENDESK_DEMO: "1" }).demo).toBe(false);
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), TOKENDESK_DEMO: "no" })).toThrowError("TOKENDESK_DEMO must be 0 or 1.");
  });

  it("runs the background work unless TOKENDESK_BACKGROUND=0", () => {
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp() }).background).toBe(true);
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), TOKENDESK_BACKGROUND: "1" }).background).toBe(true);
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), TOKENDESK_BACKGROUND: "0" }).background).toBe(false);
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), TOKENDESK_BACKGROUND: "off" })).toThrowError("TOKENDESK_BACKGROUND must be 0 or 1.");
  });

  it("derives PUBLIC_URL from PORT and strips a trailing slash", () => {
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), PORT: "4000" }).publicUrl).toBe("http://localhost:4000");
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp(), PUBLIC_URL: "https://td.example.com/" }).publicUrl).toBe("https://td.example.com");
  });

  it.each([
    [{ DATABASE_URL: "mysql://x" }, /^DATABASE_URL /],
    [{ DATABASE_URL: "postgres://localhost/db" }, /^TOKENDESK_SECRET is required/],
    [{ PORT: "eighty" }, /^PORT /],
    [{ PORT: "70000" }, /^PORT /],
    [{ PUBLIC_URL: "tokens.example.com" }, /^PUBLIC_URL /],
    [{ TOKENDESK_SECRET: "short" }, /^TOKENDESK_SECRET /],
    [{ TRUSTED_PROXY: "everyone" }, /^TRUSTED_PROXY /],
    [{ OIDC_ISSUER: "https://idp.example.com" }, /^OIDC_CLIENT_ID is required/],
    [{ OIDC_ISSUER: "https://idp", OIDC_CLIENT_ID: "a", OIDC_CLIENT_SECRET: "b", OIDC_ROLE_MAP: "ops=root" }, /^OIDC_ROLE_MAP /],
  ])("refuses %o with one sentence naming the variable", (env, message) => {
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), ...env })).toThrowError(ConfigError);
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), ...env })).toThrowError(message);
  });

  it("parses OIDC with its role mapping", () => {
    const cfg = parseConfig({
      TOKENDESK_DATA_DIR: tmp(),
      OIDC_ISSUER: "https://idp.example.com/",
      OIDC_CLIENT_ID: "td",
      OIDC_CLIENT_SECRET: "s",
      OIDC_ROLE_MAP: "td-admins=admin, td-support=support",
      OIDC_DEFAULT_ROLE: "auditor",
    });
    expect(cfg.oidc).toMatchObject({
      issuer: "https://idp.example.com",
      roleClaim: "groups",
      roleMap: [
        { value: "td-admins", role: "admin" },
        { value: "td-support", role: "support" },
      ],
      defaultRole: "auditor",
    });
  });
});
