/**
 * The tokendesk client SDK: what a mobile (React Native) or web app embeds to sign in once with a
 * sign-in token and then call the API as that user. No Node-only APIs here: `fetch`, `URLSearchParams`
 * and `crypto.getRandomValues` are all it needs, and storage is an adapter.
 *
 * Lifecycle (the seed's "sign in once"): the app's backend mints a sign-in token; `signIn(token)`
 * exchanges it once for an access + refresh token pair and discards it; `fetch` keeps the access
 * token fresh (refresh ahead of expiry and once on a 401, one refresh in flight however many calls
 * wait); `signOut()` when the app's user signs out. An installation still on a Team API key
 * (`configure` + `setUserId`) migrates by itself on `signIn` when the token is compatible.
 *
 * Instances sharing one store (tabs, processes): every change of state runs under the store's lock
 * (coordination.ts) and starts from a fresh read of the store, so a refresh always presents the
 * newest refresh token, and an instance whose token another one already refreshed adopts that
 * session instead of refreshing again (which the server would take for reuse and end the family).
 */
import { type Coordinator, coordinatorFor } from "./coordination";
import { TokendeskSdkError } from "./errors";
import type { SdkStorage } from "./storage";

export type Environment = "sandbox" | "production";
export type SdkStatus = "configured" | "signedIn" | "useApiKey" | "useSignInToken" | "pendingReauthentication";
export type StatusListener = (status: Set<SdkStatus>) => void;

export const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const STATE_KEY = "state.v1";
/** Refresh this long before the access token expires, so a call never leaves with a dying token. */
const REFRESH_SKEW_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;

interface SessionState {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  userId: string;
  environment: Environment;
  region: string;
}

interface StoredState {
  installationId: string;
  environment?: Environment;
  region?: string;
  apiKey?: string;
  apiKeyUserId?: string;
  session?: SessionState;
  pendingReauthentication?: boolean;
}

export interface TokendeskClientOptions {
  /** tokendesk's public origin, e.g. https://tokens.example.com */
  baseUrl: string;
  storage: SdkStorage;
  fetch?: typeof fetch;
  /** Milliseconds before a request to tokendesk is abandoned (error code `timeout`); default 30000. */
  timeoutMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/** What a sign-in token says about itself (`sit_<environment>_<region>_<secret>`), read offline. */
export function describeSignInToken(token: string): { environment: Environment; region: string } | null {
  const m = /^sit_(sandbox|production)_([a-z]{2,8})_[0-9A-Za-z]{49}$/.exec(token.trim());
  return m ? { environment: m[1] as Environment, region: m[2]! } : null;
}

/** What a Team API key says about itself (`sk_` sandbox, `pk_` production, then the region). */
export function describeApiKey(key: string): { environment: Environment; region: string } | null {
  const m = /^(sk|pk)_([a-z]{2,8})_[0-9A-Za-z]+$/.exec(key.trim());
  return m ? { environment: m[1] === "sk" ? "sandbox" : "production", region: m[2]! } : null;
}

function newInstallationId(): string {
  const bytes = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); // no secret: an id
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function statusOf(s: StoredState | null): Set<SdkStatus> {
  const out = new Set<SdkStatus>();
  if (!s) return out;
  if (s.environment || s.apiKey) out.add("configured");
  if (s.session) out.add("signedIn").add("useSignInToken");
  else if (s.apiKey && s.apiKeyUserId) out.add("signedIn").add("useApiKey");
  else if (s.apiKey) out.add("useApiKey");
  if (s.pendingReauthentication) out.add("pendingReauthentication");
  return out;
}

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user_id?: string;
  environment?: Environment;
  region?: string;
}
type OAuthBody = Partial<TokenAnswer> & { error?: string; error_description?: string };

export class TokendeskClient {
  private state: StoredState | null = null;
  private refreshing: Promise<SessionState> | null = null;
  private readonly listeners = new Set<StatusListener>();
  private lastStatus: string | null = null;
  private readonly baseUrl: string;
  private readonly storage: SdkStorage;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly coordinator: Coordinator;

  constructor(options: TokendeskClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, "");
    this.storage = options.storage;
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.coordinator = coordinatorFor(this.storage, this.baseUrl, () => void this.reread().catch(() => undefined));
  }

  // ---- state ---------------------------------------------------------------------------------

  private async readStorage(): Promise<StoredState | null> {
    const raw = await this.storage.get(STATE_KEY);
    try {
      const parsed = raw ? (JSON.parse(raw) as StoredState) : null;
      return parsed?.installationId ? parsed : null;
    } catch {
      return null; // unreadable state: start over rather than crash the app
    }
  }

  private adopt(next: StoredState): StoredState {
    this.state = next;
    const status = statusOf(next);
    const key = [...status].sort().join(",");
    const changed = this.lastStatus !== null && this.lastStatus !== key;
    this.lastStatus = key;
    if (changed) {
      for (const listener of this.listeners) {
        try {
          listener(new Set(status));
        } catch {
          // a listener's failure is the app's, not the SDK's state
        }
      }
    }
    return next;
  }

  /** Re-reads the store (another tab or process may have changed it). */
  private async reread(): Promise<StoredState> {
    const stored = await this.readStorage();
    return stored ? this.adopt(stored) : this.exclusive(async (s) => s);
  }

  private async load(): Promise<StoredState> {
    return this.state ?? this.reread();
  }

  /**
   * Runs `work` under the store's lock on a fresh read of the store; `commit` writes and tells the
   * other instances. A store seen empty gets its installation id here, so that two instances that
   * start together agree on one.
   */
  private exclusive<T>(work: (current: StoredState, commit: (next: StoredState) => Promise<StoredState>) => Promise<T>): Promise<T> {
    return this.coordinator.withLock(async () => {
      const commit = async (next: StoredState): Promise<StoredState> => {
        await this.storage.set(STATE_KEY, JSON.stringify(next));
        this.coordinator.announce();
        return this.adopt(next);
      };
      const stored = await this.readStorage();
      const current = stored ? this.adopt(stored) : await commit({ installationId: newInstallationId() });
      return work(current, commit);
    });
  }

  /** The stable id of this app installation (sent with every exchange and API-key call). */
  async installationId(): Promise<string> {
    return (await this.load()).installationId;
  }

  /** What the SDK is, as of the store now (another tab or process may have signed in or out). */
  async status(): Promise<Set<SdkStatus>> {
    return statusOf(await this.reread());
  }

  async currentUserId(): Promise<string | null> {
    const s = await this.reread();
    return s.session?.userId ?? s.apiKeyUserId ?? null;
  }

  /**
   * Calls `listener` with the new status whenever it changes: sign-in, sign-out, migration, the
   * user deleted or disabled, and changes made by another tab (BroadcastChannel) or seen in the
   * store. Returns the function that unsubscribes.
   */
  onStatusChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    if (this.lastStatus === null) void this.load().catch(() => undefined);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops listening to other tabs (the client stays usable). */
  close(): void {
    this.coordinator.close();
  }

  // ---- API-key mode (legacy) -----------------------------------------------------------------

  async configure(opts: { apiKey: string; environment: Environment; region: string }): Promise<void> {
    const described = describeApiKey(opts.apiKey);
    if (!described || described.environment !== opts.environment || described.region !== opts.region) {
      throw new TokendeskSdkError("notConfigured", "The API key does not match the environment and region it was configured with.");
    }
    await this.exclusive(async (s, commit) => {
      if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is signed in with a sign-in token; sign out before configuring an API key.");
      await commit({ ...s, apiKey: opts.apiKey, environment: opts.environment, region: opts.region });
    });
  }

  async setUserId(userId: string): Promise<void> {
    await this.exclusive(async (s, commit) => {
      if (!s.apiKey) throw new TokendeskSdkError("notConfigured", "Call configure({ apiKey, environment, region }) before setUserId.");
      if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is signed in with a sign-in token.");
      await commit({ ...s, apiKeyUserId: userId });
    });
  }

  // ---- sign-in tokens ------------------------------------------------------------------------

  /**
   * Exchanges a sign-in token once. Signed in already → `alreadySignedIn`, except in API-key mode
   * with a token of the same environment and region, which migrates the installation: the server
   * checks key, environment, region and user, and on refusal leaves the token unused.
   */
  async signIn(signInToken: string, init: { signal?: AbortSignal } = {}): Promise<{ userId: string }> {
    const token = signInToken.trim();
    const described = describeSignInToken(token);
    if (!described) throw new TokendeskSdkError("invalidSignInToken", "This is not a tokendesk sign-in token.");

    return this.exclusive(async (s, commit) => {
      if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is already signed in; sign out first to sign in as someone else.");
      const form = new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: token,
        subject_token_type: SIGN_IN_TOKEN_TYPE,
        installation_id: s.installationId,
      });
      const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
      if (s.apiKey && s.apiKeyUserId) {
        const key = describeApiKey(s.apiKey);
        if (!key || key.environment !== described.environment || key.region !== described.region) {
          throw new TokendeskSdkError(
            "incompatibleMigration",
            `This sign-in token is for ${described.environment}/${described.region}, but the app is configured for ${key?.environment}/${key?.region}.`,
          );
        }
        headers["X-Vital-API-Key"] = s.apiKey;
        form.set("previous_user_id", s.apiKeyUserId);
      }

      const { res, body } = await this.tokenRequest("/oauth/token", headers, form, init.signal);
      if (!res.ok) {
        const description = body.error_description ?? "";
        if (description.startsWith("incompatible_migration")) {
          throw new TokendeskSdkError("incompatibleMigration", description, res.status, body);
        }
        throw new TokendeskSdkError("signInTokenRejected", description || "The sign-in token was refused.", res.status, body);
      }
      const session = this.sessionFrom(body as TokenAnswer, described);
      // The sign-in token is not kept anywhere; after a migration the API key is forgotten too.
      await commit({ installationId: s.installationId, environment: session.environment, region: session.region, session });
      return { userId: session.userId };
    });
  }

  /** Ends the SDK session: revokes the refresh token (best effort) and forgets every credential. */
  async signOut(): Promise<void> {
    await this.exclusive(async (s, commit) => {
      if (s.session) {
        await this.tokenRequest(
          "/oauth/revoke",
          { "Content-Type": "application/x-www-form-urlencoded" },
          new URLSearchParams({ token: s.session.refreshToken, token_type_hint: "refresh_token" }),
        ).catch(() => undefined);
      }
      await commit({ installationId: s.installationId });
    });
  }

  // ---- authenticated calls -------------------------------------------------------------------

  /**
   * `fetch` as the signed-in user. Sign-in-token mode: a bearer access token, refreshed ahead of
   * expiry and once more on a 401. API-key mode: the key and the installation id headers.
   * `init.signal` aborts the call (error code `aborted`); the client's `timeoutMs` bounds it.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const s = await this.signedInState();
    if (s.session) {
      let session = await this.freshSession(false, undefined, init.signal ?? undefined);
      let res = await this.request(path, this.withHeaders(init, { Authorization: `Bearer ${session.accessToken}` }));
      if (res.status === 401) {
        session = await this.freshSession(true, session.accessToken, init.signal ?? undefined);
        res = await this.request(path, this.withHeaders(init, { Authorization: `Bearer ${session.accessToken}` }));
      }
      return res;
    }
    if (s.apiKey) {
      return this.request(path, this.withHeaders(init, { "X-Vital-API-Key": s.apiKey, "X-Installation-Id": s.installationId }));
    }
    throw new TokendeskSdkError("notSignedIn", "The SDK is not signed in.");
  }

  /** The access token, refreshed if needed (for apps that call their own resource servers). */
  async accessToken(): Promise<string> {
    await this.signedInState();
    return (await this.freshSession(false)).accessToken;
  }

  /**
   * The state to call with. Signed out in memory is checked against the store first: another tab or
   * process may have signed in a moment ago, before its BroadcastChannel message (if any) arrived.
   */
  private async signedInState(): Promise<StoredState> {
    const s = await this.load();
    return s.session || s.apiKey ? s : this.reread();
  }

  private withHeaders(init: RequestInit, extra: Record<string, string>): RequestInit {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return { ...init, headers };
  }

  /**
   * One call to tokendesk, abandoned after `timeoutMs` or when `init.signal` aborts. The timer
   * covers the answer's headers; `readBody` extends it over the body (the SDK's own token calls).
   */
  private async request(path: string, init: RequestInit, readBody?: (res: Response) => Promise<unknown>): Promise<Response> {
    const outer = init.signal;
    if (outer?.aborted) throw new TokendeskSdkError("aborted", "The call was aborted.", undefined, outer.reason);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onAbort = () => controller.abort();
    outer?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await this.fetchImpl(`${this.baseUrl}${path}`, { ...init, signal: controller.signal });
      if (readBody) await readBody(res);
      return res;
    } catch (err) {
      if (timedOut) throw new TokendeskSdkError("timeout", `tokendesk did not answer within ${this.timeoutMs} ms.`, undefined, err);
      if (outer?.aborted) throw new TokendeskSdkError("aborted", "The call was aborted.", undefined, err);
      throw new TokendeskSdkError("network", "tokendesk could not be reached.", undefined, err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    }
  }

  private async tokenRequest(
    path: string,
    headers: Record<string, string>,
    form: URLSearchParams,
    signal?: AbortSignal,
  ): Promise<{ res: Response; body: OAuthBody }> {
    let body: OAuthBody = {};
    const res = await this.request(path, { method: "POST", headers, body: form.toString(), signal }, async (r) => {
      body = (await r.json().catch(() => ({}))) as OAuthBody;
    });
    return { res, body };
  }

  private sessionFrom(body: TokenAnswer, fallback: { environment: Environment; region: string }, previous?: SessionState): SessionState {
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      accessExpiresAt: this.now() + body.expires_in * 1000,
      userId: body.user_id ?? previous!.userId,
      environment: body.environment ?? fallback.environment,
      region: body.region ?? fallback.region,
    };
  }

  private isFresh(session: SessionState): boolean {
    return session.accessExpiresAt - REFRESH_SKEW_MS > this.now();
  }

  /**
   * A session whose access token is good for a while. However many calls ask at once, one refresh
   * is in flight in this instance; the rest wait for it. `force` refreshes even a token that looks
   * fresh (after a 401), unless another call already replaced the token that failed.
   */
  private async freshSession(force: boolean, failedAccessToken?: string, signal?: AbortSignal): Promise<SessionState> {
    const s = this.state;
    if (!s?.session) throw new TokendeskSdkError("notSignedIn", "The SDK is not signed in.");
    if (!this.refreshing) {
      if (!force && this.isFresh(s.session)) return s.session;
      if (force && failedAccessToken && s.session.accessToken !== failedAccessToken) return s.session;
    }
    this.refreshing ??= this.refreshUnderLock(force ? failedAccessToken : undefined, signal).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private refreshUnderLock(failedAccessToken: string | undefined, signal?: AbortSignal): Promise<SessionState> {
    return this.exclusive(async (s, commit) => {
      const session = s.session;
      if (!session) throw new TokendeskSdkError("notSignedIn", "The SDK is not signed in (it was signed out by another instance).");
      // Another tab or process refreshed while this one waited for the lock: adopt its session.
      const replaced = failedAccessToken !== undefined && session.accessToken !== failedAccessToken;
      if ((failedAccessToken === undefined || replaced) && this.isFresh(session)) return session;

      const { res, body } = await this.tokenRequest(
        "/oauth/token",
        { "Content-Type": "application/x-www-form-urlencoded" },
        new URLSearchParams({ grant_type: "refresh_token", refresh_token: session.refreshToken }),
        signal,
      );
      if (res.ok) {
        const next = this.sessionFrom(body as TokenAnswer, session, session);
        await commit({ ...s, session: next, pendingReauthentication: false });
        return next;
      }
      const description = body.error_description ?? "";
      if (body.error === "invalid_grant" && description.startsWith("user_deleted")) {
        // The user is gone: sign out by ourselves so the app can notice and start over.
        await commit({ installationId: s.installationId });
        throw new TokendeskSdkError("userDeleted", "The user was deleted; the SDK has signed out.", res.status, body);
      }
      if (body.error === "invalid_grant" && description.startsWith("user_disabled")) {
        await commit({ ...s, pendingReauthentication: true });
        throw new TokendeskSdkError("userDisabled", "The user is disabled; calls will fail until they are enabled again.", res.status, body);
      }
      if (body.error === "invalid_grant") {
        // Revoked, expired or reused: this session is over; the app should sign in again.
        await commit({ installationId: s.installationId, environment: s.environment, region: s.region, pendingReauthentication: true });
        throw new TokendeskSdkError("sessionEnded", description || "The session has ended; sign in again.", res.status, body);
      }
      throw new TokendeskSdkError("http", `Refreshing failed with HTTP ${res.status}.`, res.status, body);
    });
  }
}

export function createTokendeskClient(options: TokendeskClientOptions): TokendeskClient {
  return new TokendeskClient(options);
}
