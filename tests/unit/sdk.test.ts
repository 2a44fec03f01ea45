import {
  createTokendeskClient,
  isSdkError,
  type KeyValueStore,
  keyValueStorage,
  localStorageAdapter,
  memoryStorage,
  type SdkStatus,
  type WebStorage,
} from "@tokendesk/sdk";
import { IDBFactory } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";

const TOKEN = `sit_sandbox_us_${"a".repeat(49)}`;
const KEY = `sk_us_${"b".repeat(49)}`;

/** A stand-in for tokendesk's token endpoint and one user-scoped route, counting what it sees. */
function fakeServer(opts: { refreshError?: { error: string; error_description: string } } = {}) {
  const seen = { exchanges: [] as URLSearchParams[], refreshes: 0, reused: 0, revokes: 0, calls: 0, headers: [] as Headers[] };
  let generation = 0;
  // Like tokendesk, one live refresh token at a time: presenting a rotated one is reuse.
  let live = "rt-0";
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    if (url.pathname === "/oauth/token") {
      const form = new URLSearchParams(String(init?.body));
      if (form.get("grant_type") === "refresh_token") {
        seen.refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        if (opts.refreshError) return Response.json(opts.refreshError, { status: 400 });
        if (form.get("refresh_token") !== live) {
          seen.reused++;
          return Response.json({ error: "invalid_grant", error_description: "refresh_token_reused" }, { status: 400 });
        }
        generation++;
        live = `rt-${generation}`;
        return Response.json({ access_token: `at-${generation}`, refresh_token: `rt-${generation}`, expires_in: 3600 });
      }
      seen.exchanges.push(form);
      seen.headers.push(headers);
      return Response.json({ access_token: "at-0", refresh_token: "rt-0", expires_in: 3600, user_id: "u1", environment: "sandbox", region: "us" });
    }
    if (url.pathname === "/oauth/revoke") {
      seen.revokes++;
      return new Response(null, { status: 200 });
    }
    seen.calls++;
    seen.headers.push(headers);
    return Response.json({ auth: headers.get("authorization") });
  };
  return { seen, fetchImpl };
}

describe("client SDK", () => {
  it("signs in once, discards the token, reports its status and refuses a second sign-in", async () => {
    const { seen, fetchImpl } = fakeServer();
    const storage = memoryStorage();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    expect([...(await sdk.status())]).toEqual([]);
    expect(await sdk.signIn(TOKEN)).toEqual({ userId: "u1" });
    expect(seen.exchanges[0]!.get("installation_id")).toBe(await sdk.installationId());
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    expect(await sdk.currentUserId()).toBe("u1");
    expect(await storage.get("state.v1")).not.toContain(TOKEN);
    await expect(sdk.signIn(TOKEN)).rejects.toMatchObject({ code: "alreadySignedIn" });
  });

  it("keeps its state and installation id across app launches (a new client on the same storage)", async () => {
    const { fetchImpl } = fakeServer();
    const storage = memoryStorage();
    const first = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    await first.signIn(TOKEN);
    const relaunched = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    expect(await relaunched.currentUserId()).toBe("u1");
    expect(await relaunched.installationId()).toBe(await first.installationId());
  });

  it("refreshes an expired access token exactly once for 100 concurrent calls", async () => {
    let now = 1_000_000;
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl, now: () => now });
    await sdk.signIn(TOKEN);
    now += 3600 * 1000; // the access token has expired
    const answers = await Promise.all(Array.from({ length: 100 }, () => sdk.fetch("/v2/user/u1").then((r) => r.json())));
    expect(seen.refreshes).toBe(1);
    expect(new Set(answers.map((a) => (a as { auth: string }).auth))).toEqual(new Set(["Bearer at-1"]));
  });

  it("migrates an API-key installation on sign-in when the token is compatible", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.configure({ apiKey: KEY, environment: "sandbox", region: "us" });
    await sdk.setUserId("u1");
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useApiKey"]));
    await sdk.fetch("/v2/user/u1");
    expect(seen.headers[0]!.get("x-vital-api-key")).toBe(KEY);
    expect(seen.headers[0]!.get("x-installation-id")).toBe(await sdk.installationId());

    await sdk.signIn(TOKEN);
    expect(seen.exchanges[0]!.get("previous_user_id")).toBe("u1");
    expect(seen.headers[1]!.get("x-vital-api-key")).toBe(KEY);
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
  });

  it("refuses offline to migrate to a token of another environment or region, and sends nothing", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.configure({ apiKey: KEY, environment: "sandbox", region: "us" });
    await sdk.setUserId("u1");
    await expect(sdk.signIn(`sit_production_us_${"a".repeat(49)}`)).rejects.toMatchObject({ code: "incompatibleMigration" });
    await expect(sdk.signIn(`sit_sandbox_eu_${"a".repeat(49)}`)).rejects.toMatchObject({ code: "incompatibleMigration" });
    expect(seen.exchanges).toHaveLength(0);
  });

  it("signs itself out when the user was deleted", async () => {
    let now = 0;
    const { fetchImpl } = fakeServer({ refreshError: { error: "invalid_grant", error_description: "user_deleted: the user no longer exists" } });
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl, now: () => now });
    await sdk.signIn(TOKEN);
    now += 4000 * 1000;
    const err = await sdk.fetch("/v2/user/u1").catch((e: unknown) => e);
    expect(isSdkError(err, "userDeleted")).toBe(true);
    expect(await sdk.status()).toEqual(new Set());
    expect(await sdk.currentUserId()).toBeNull();
  });

  it("rejects what is not a sign-in token without calling out", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await expect(sdk.signIn("hello")).rejects.toMatchObject({ code: "invalidSignInToken" });
    expect(seen.exchanges).toHaveLength(0);
  });

  it("revokes its refresh token and forgets everything on sign-out", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.signIn(TOKEN);
    await sdk.signOut();
    expect(seen.revokes).toBe(1);
    expect(await sdk.status()).toEqual(new Set());
    await expect(sdk.fetch("/v2/user/u1")).rejects.toMatchObject({ code: "notSignedIn" });
  });
});

/** An expo-secure-store look-alike: async, and it refuses keys outside [A-Za-z0-9._-] as the real one does. */
function fakeSecureStore(): KeyValueStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  const check = (key: string) => {
    if (!/^[\w.-]+$/.test(key)) throw new Error(`Invalid key: ${key}`);
  };
  return {
    items,
    getItem: async (key) => {
      check(key);
      return items.get(key) ?? null;
    },
    setItem: async (key, value) => {
      check(key);
      items.set(key, value);
    },
    removeItem: async (key) => {
      check(key);
      items.delete(key);
    },
  };
}

describe("client SDK: several instances on one store", () => {
  it("two clients on one store, 50 concurrent calls each across an expiry: one refresh, no reuse, both stay signed in", async () => {
    let now = 1_000_000;
    const { seen, fetchImpl } = fakeServer();
    const store = fakeSecureStore();
    // Two adapter objects over one store, as two parts of an app (or two tabs) would have.
    const a = createTokendeskClient({ baseUrl: "https://td.test", storage: keyValueStorage(store), fetch: fetchImpl, now: () => now });
    const b = createTokendeskClient({ baseUrl: "https://td.test", storage: keyValueStorage(store), fetch: fetchImpl, now: () => now });
    await a.signIn(TOKEN);
    expect(await b.currentUserId()).toBe("u1");
    for (let round = 1; round <= 3; round++) {
      now += 3600 * 1000; // past the access token's expiry
      const statuses = await Promise.all([a, b].flatMap((client) => Array.from({ length: 50 }, () => client.fetch("/v2/user/u1").then((r) => r.status))));
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(seen.refreshes).toBe(round);
    }
    expect(seen.reused).toBe(0);
    expect(await a.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    expect(await b.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    expect([...store.items.keys()]).toEqual(["tokendesk.state.v1"]);
  });

  it("a client whose stored session was refreshed by another adopts it after a 401 instead of refreshing", async () => {
    const { seen, fetchImpl } = fakeServer();
    // The server no longer accepts at-0 once it has been refreshed away.
    const server: typeof fetch = async (input, init) => {
      const auth = new Headers(init?.headers).get("authorization");
      if (seen.refreshes > 0 && auth === "Bearer at-0") return new Response(null, { status: 401 });
      return fetchImpl(input, init);
    };
    const storage = memoryStorage();
    const a = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: server, now: () => Date.now() + 3600 * 1000 });
    const b = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: server });
    await b.signIn(TOKEN);
    expect((await b.fetch("/v2/user/u1")).status).toBe(200); // b holds at-0 in memory
    expect((await a.fetch("/v2/user/u1")).status).toBe(200); // at-0 has expired for a: a refreshes to at-1
    const res = await b.fetch("/v2/user/u1"); // 401 with at-0; b finds at-1 in the store and retries with it
    expect(res.status).toBe(200);
    expect(((await res.json()) as { auth: string }).auth).toBe("Bearer at-1");
    expect(seen.refreshes).toBe(1);
    expect(seen.reused).toBe(0);
  });

  it("a client that last saw the store signed out finds another instance's sign-in without waiting for a message", async () => {
    const { fetchImpl } = fakeServer();
    const storage = memoryStorage(); // no name: no BroadcastChannel, only the store itself
    const a = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    const b = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    await b.installationId(); // b has read the store while it was signed out
    await a.signIn(TOKEN);
    expect((await b.fetch("/v2/user/u1")).status).toBe(200);
    expect(await b.accessToken()).toBe("at-0");
  });

  it("tells status listeners about its own changes and another instance's, until they unsubscribe", async () => {
    const { fetchImpl } = fakeServer();
    const store = fakeSecureStore();
    const a = createTokendeskClient({ baseUrl: "https://td.test", storage: keyValueStorage(store), fetch: fetchImpl });
    const b = createTokendeskClient({ baseUrl: "https://td.test", storage: keyValueStorage(store), fetch: fetchImpl });
    const seenByA: SdkStatus[][] = [];
    const seenByB: SdkStatus[][] = [];
    const stopA = a.onStatusChange((s) => seenByA.push([...s].sort()));
    b.onStatusChange((s) => seenByB.push([...s].sort()));
    await a.status();
    await b.status();
    await a.signIn(TOKEN);
    expect(seenByA).toEqual([["configured", "signedIn", "useSignInToken"]]);
    // b hears it on the store's BroadcastChannel (or at its next read of the store).
    await expect.poll(() => seenByB).toEqual([["configured", "signedIn", "useSignInToken"]]);
    stopA();
    await b.signOut();
    await expect.poll(() => seenByB.length).toBe(2);
    expect(seenByB[1]).toEqual([]);
    await a.status();
    expect(seenByA).toHaveLength(1); // unsubscribed
    a.close();
    b.close();
  });
});

/**
 * A browser as the two-tab race meets it. Web Locks: one FIFO queue per name, each grant a task
 * later (a message from the browser process). localStorage: every tab (renderer process) reads its
 * own copy; another tab's write reaches that copy `lagMs` later, on its own channel, so a tab can be
 * granted the lock another tab released before that tab's last write has reached it (Chromium does
 * this: whatwg/html#403). IndexedDB: fake-indexeddb, one backend for every tab, as in a browser.
 */
function fakeBrowser(lagMs: number) {
  const queues = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  const grantNext = (name: string) => {
    const next = queues.get(name)?.shift();
    if (next) setTimeout(next, 0);
    else held.delete(name);
  };
  const locks = {
    request<T>(name: string, _options: { mode: "exclusive" }, callback: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const run = () =>
          void callback()
            .then(resolve, reject)
            .finally(() => grantNext(name));
        if (held.has(name)) queues.set(name, [...(queues.get(name) ?? []), run]);
        else {
          held.add(name);
          setTimeout(run, 0);
        }
      });
    },
  };
  const views: Map<string, string>[] = [];
  const tab = (): WebStorage => {
    const own = new Map<string, string>(views[0] ?? []);
    views.push(own);
    const spread = (apply: (view: Map<string, string>) => void) => {
      apply(own);
      for (const other of views) if (other !== own) setTimeout(() => apply(other), lagMs);
    };
    return {
      getItem: (k) => own.get(k) ?? null,
      setItem: (k, v) => spread((view) => view.set(k, v)),
      removeItem: (k) => spread((view) => view.delete(k)),
    };
  };
  const g = globalThis as Record<string, unknown>;
  const saved = { navigator: Object.getOwnPropertyDescriptor(g, "navigator"), localStorage: g.localStorage, indexedDB: g.indexedDB };
  Object.defineProperty(g, "navigator", { value: { locks }, configurable: true, writable: true });
  g.indexedDB = new IDBFactory();
  return {
    /** Creates what runs in a new tab: `make` sees that tab's localStorage as the global one. */
    inTab<T>(make: () => T): T {
      g.localStorage = tab();
      return make();
    },
    restore() {
      if (saved.navigator) Object.defineProperty(g, "navigator", saved.navigator);
      else delete g.navigator;
      g.localStorage = saved.localStorage;
      g.indexedDB = saved.indexedDB;
      if (saved.localStorage === undefined) delete g.localStorage;
      if (saved.indexedDB === undefined) delete g.indexedDB;
    },
  };
}

describe("client SDK: two browser tabs (Web Locks, per-tab localStorage copies, IndexedDB)", () => {
  let browser: ReturnType<typeof fakeBrowser> | null = null;
  afterEach(() => {
    browser?.restore();
    browser = null;
  });

  it("a tab granted the lock before another tab's write reached its localStorage still never refreshes with a rotated token", async () => {
    browser = fakeBrowser(50);
    let now = 1_000_000;
    const { seen, fetchImpl } = fakeServer();
    const open = () => createTokendeskClient({ baseUrl: "https://td.test", storage: localStorageAdapter(), fetch: fetchImpl, now: () => now });
    const a = browser.inTab(open);
    const b = browser.inTab(open);
    await a.signIn(TOKEN);
    await new Promise((r) => setTimeout(r, 100)); // the sign-in has reached every tab's copy
    expect(await b.currentUserId()).toBe("u1");
    for (let round = 1; round <= 3; round++) {
      now += 3600 * 1000; // past the access token's expiry: both tabs queue for the lock to refresh
      const statuses = await Promise.all([a, b].flatMap((tab) => Array.from({ length: 50 }, () => tab.fetch("/v2/user/u1").then((r) => r.status))));
      expect(statuses.every((s) => s === 200)).toBe(true);
      // One rotation per expiry: the tab that got the lock second adopted the first one's session.
      expect(seen.refreshes).toBe(round);
    }
    expect(seen.reused).toBe(0);
    expect(await a.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    expect(await b.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    a.close();
    b.close();
  });

  it("takes over a session that version 0.2 left in localStorage, and moves it out at the first write", async () => {
    browser = fakeBrowser(0);
    const { seen, fetchImpl } = fakeServer();
    const legacyState = {
      installationId: "7f1c2a9e-0000-4000-8000-000000000001",
      environment: "sandbox",
      region: "us",
      session: { accessToken: "at-0", refreshToken: "rt-0", accessExpiresAt: 0, userId: "u1", environment: "sandbox", region: "us" },
    };
    const sdk = browser.inTab(() => {
      globalThis.localStorage.setItem("tokendesk:state.v1", JSON.stringify(legacyState));
      return createTokendeskClient({ baseUrl: "https://td.test", storage: localStorageAdapter(), fetch: fetchImpl });
    });
    expect(await sdk.currentUserId()).toBe("u1");
    expect(await sdk.installationId()).toBe(legacyState.installationId);
    expect(await sdk.accessToken()).toBe("at-1"); // expired: refreshed with the stored rt-0
    expect(seen.refreshes).toBe(1);
    expect(globalThis.localStorage.getItem("tokendesk:state.v1")).toBeNull();
    const relaunched = createTokendeskClient({ baseUrl: "https://td.test", storage: localStorageAdapter(), fetch: fetchImpl });
    expect(await relaunched.accessToken()).toBe("at-1");
    sdk.close();
    relaunched.close();
  });
});

describe("client SDK: timeouts and aborts", () => {
  /** A server that never answers, but lets the request be aborted, as fetch does. */
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      if (init?.signal?.aborted) reject(new DOMException("aborted", "AbortError"));
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });

  it("gives up after timeoutMs with the code timeout", async () => {
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: hanging, timeoutMs: 50 });
    await expect(sdk.signIn(TOKEN)).rejects.toMatchObject({ code: "timeout" });
    expect(await sdk.status()).toEqual(new Set());
  });

  it("stops when the caller's AbortSignal fires, with the code aborted", async () => {
    const { fetchImpl } = fakeServer();
    const storage = memoryStorage();
    await createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl }).signIn(TOKEN);
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: hanging });
    const controller = new AbortController();
    const call = sdk.fetch("/v2/user/u1", { signal: controller.signal });
    setTimeout(() => controller.abort(), 20); // while the request is under way
    await expect(call).rejects.toMatchObject({ code: "aborted" });
    const already = AbortSignal.abort();
    await expect(sdk.fetch("/v2/user/u1", { signal: already })).rejects.toMatchObject({ code: "aborted" });
  });
});
