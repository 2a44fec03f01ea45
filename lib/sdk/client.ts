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
 */
import { TokendeskSdkError } from "./errors";
import type { SdkStorage } from "./storage";

export type Environment = "sandbox" | "production";
export type SdkStatus = "configured" | "signedIn" | "useApiKey" | "useSignInToken" | "pendingReauthentication";

export const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const STATE_KEY = "state.v1";
/** Refresh this long before the access token expires, so a call never leaves with a dying token. */
const REFRESH_SKEW_MS = 30_000;

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

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user_id?: string;
  environment?: Environment;
  region?: string;
}

export class TokendeskClient {
  private state: StoredState | null = null;
  private loading: Promise<StoredState> | null = null;
  private refreshing: Promise<SessionState> | null = null;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: TokendeskClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, "");
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.now = options.now ?? Date.now;
  }

  // ---- state ---------------------------------------------------------------------------------

  private async load(): Promise<StoredState> {
    if (this.state) return this.state;
    this.loading ??= (async () => {
      const raw = await this.options.storage.get(STATE_KEY);
      let parsed: StoredState | null = null;
      try {
        parsed = raw ? (JSON.parse(raw) as StoredState) : null;
      } catch {
        parsed = null; // unreadable state: start over rather than crash the app
      }
      this.state = parsed?.installationId ? parsed : { installationId: newInstallationId() };
      if (!parsed?.installationId) await this.save();
      return this.state;
    })();
    return this.loading;
  }

  private async save(): Promise<void> {
    await this.options.storage.set(STATE_KEY, JSON.stringify(this.state));
  }

  private async update(change: (s: StoredState) => StoredState): Promise<StoredState> {
    this.state = change(await this.load());
    await this.save();
    return this.state;
  }

  /** The stable id of this app installation (sent with every exchange and API-key call). */
  async installationId(): Promise<string> {
    return (await this.load()).installationId;
  }

  async status(): Promise<Set<SdkStatus>> {
    const s = await this.load();
    const out = new Set<SdkStatus>();
    if (s.environment || s.apiKey) out.add("configured");
    if (s.session) out.add("signedIn").add("useSignInToken");
    else if (s.apiKey && s.apiKeyUserId) out.add("signedIn").add("useApiKey");
    else if (s.apiKey) out.add("useApiKey");
    if (s.pendingReauthentication) out.add("pendingReauthentication");
    return out;
  }

  async currentUserId(): Promise<string | null> {
    const s = await this.load();
    return s.session?.userId ?? s.apiKeyUserId ?? null;
  }

  // ---- API-key mode (legacy) -----------------------------------------------------------------

  async configure(opts: { apiKey: string; environment: Environment; region: string }): Promise<void> {
    const s = await this.load();
    if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is signed in with a sign-in token; sign out before configuring an API key.");
    const described = describeApiKey(opts.apiKey);
    if (!described || described.environment !== opts.environment || described.region !== opts.region) {
      throw new TokendeskSdkError("notConfigured", "The API key does not match the environment and region it was configured with.");
    }
    await this.update((st) => ({ ...st, apiKey: opts.apiKey, environment: opts.environment, region: opts.region }));
  }

  async setUserId(userId: string): Promise<void> {
    const s = await this.load();
    if (!s.apiKey) throw new TokendeskSdkError("notConfigured", "Call configure({ apiKey, environment, region }) before setUserId.");
    if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is signed in with a sign-in token.");
    await this.update((st) => ({ ...st, apiKeyUserId: userId }));
  }

  // ---- sign-in tokens ------------------------------------------------------------------------

  /**
   * Exchanges a sign-in token once. Signed in already → `alreadySignedIn`, except in API-key mode
   * with a token of the same environment and region, which migrates the installation: the server
   * checks key, environment, region and user, and on refusal leaves the token unused.
   */
  async signIn(signInToken: string): Promise<{ userId: string }> {
    const s = await this.load();
    if (s.session) throw new TokendeskSdkError("alreadySignedIn", "The SDK is already signed in; sign out first to sign in as someone else.");
    const token = signInToken.trim();
    const described = describeSignInToken(token);
    if (!described) throw new TokendeskSdkError("invalidSignInToken", "This is not a tokendesk sign-in token.");

    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE,
      subject_token: token,
      subject_token_type: SIGN_IN_TOKEN_TYPE,
      installation_id: s.installationId,
    });
    const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
    const migrating = Boolean(s.apiKey && s.apiKeyUserId);
    if (migrating) {
      const key = describeApiKey(s.apiKey!);
      if (!key || key.environment !== described.environment || key.region !== described.region) {
        throw new TokendeskSdkError(
          "incompatibleMigration",
          `This sign-in token is for ${described.environment}/${described.region}, but the app is configured for ${key?.environment}/${key?.region}.`,
        );
      }
      headers["X-Vital-API-Key"] = s.apiKey!;
      form.set("previous_user_id", s.apiKeyUserId!);
    }

    const res = await this.request("/oauth/token", { method: "POST", headers, body: form.toString() });
    const body = (await res.json().catch(() => ({}))) as Partial<TokenAnswer> & { error?: string; error_description?: string };
    if (!res.ok) {
      const description = body.error_description ?? "";
      if (description.startsWith("incompatible_migration")) {
        throw new TokendeskSdkError("incompatibleMigration", description, res.status, body);
      }
      throw new TokendeskSdkError("signInTokenRejected", description || "The sign-in token was refused.", res.status, body);
    }
    const session = this.sessionFrom(body as TokenAnswer, described);
    // The sign-in token is not kept anywhere; after a migration the API key is forgotten too.
    await this.update((st) => ({
      installationId: st.installationId,
      environment: session.environment,
      region: session.region,
      session,
    }));
    return { userId: session.userId };
  }

  /** Ends the SDK session: revokes the refresh token (best effort) and forgets every credential. */
  async signOut(): Promise<void> {
    const s = await this.load();
    if (s.session) {
      await this.request("/oauth/revoke", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: s.session.refreshToken, token_type_hint: "refresh_token" }).toString(),
      }).catch(() => undefined);
    }
    await this.update((st) => ({ installationId: st.installationId }));
  }

  // ---- authenticated calls -------------------------------------------------------------------

  /**
   * `fetch` as the signed-in user. Sign-in-token mode: a bearer access token, refreshed ahead of
   * expiry and once more on a 401. API-key mode: the key and the installation id headers.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const s = await this.load();
    if (s.session) {
      let session = await this.freshSession(false);
      let res = await this.request(path, this.withHeaders(init, { Authorization: `Bearer ${session.accessToken}` }));
      if (res.status === 401) {
        session = await this.freshSession(true, session.accessToken);
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
    return (await this.freshSession(false)).accessToken;
  }

  private withHeaders(init: RequestInit, extra: Record<string, string>): RequestInit {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return { ...init, headers };
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (err) {
      throw new TokendeskSdkError("network", "tokendesk could not be reached.", undefined, err);
    }
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

  /**
   * A session whose access token is good for a while. However many calls ask at once, one refresh
   * is in flight; the rest wait for it. `force` refreshes even a token that looks fresh (after a
   * 401), unless another call already replaced the token that failed.
   */
  private async freshSession(force: boolean, failedAccessToken?: string): Promise<SessionState> {
    const s = await this.load();
    if (!s.session) throw new TokendeskSdkError("notSignedIn", "The SDK is not signed in.");
    const stillGood = s.session.accessExpiresAt - REFRESH_SKEW_MS > this.now();
    if (!force && stillGood && !this.refreshing) return s.session;
    if (force && failedAccessToken && s.session.accessToken !== failedAccessToken && !this.refreshing) return s.session;
    this.refreshing ??= this.refresh(s.session).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(session: SessionState): Promise<SessionState> {
    const res = await this.request("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: session.refreshToken }).toString(),
    });
    const body = (await res.json().catch(() => ({}))) as Partial<TokenAnswer> & { error?: string; error_description?: string };
    if (res.ok) {
      const next = this.sessionFrom(body as TokenAnswer, session, session);
      await this.update((st) => ({ ...st, session: next, pendingReauthentication: false }));
      return next;
    }
    const description = body.error_description ?? "";
    if (body.error === "invalid_grant" && description.startsWith("user_deleted")) {
      // The user is gone: sign out by ourselves so the app can notice and start over.
      await this.update((st) => ({ installationId: st.installationId }));
      throw new TokendeskSdkError("userDeleted", "The user was deleted; the SDK has signed out.", res.status, body);
    }
    if (body.error === "invalid_grant" && description.startsWith("user_disabled")) {
      await this.update((st) => ({ ...st, pendingReauthentication: true }));
      throw new TokendeskSdkError("userDisabled", "The user is disabled; calls will fail until they are enabled again.", res.status, body);
    }
    if (body.error === "invalid_grant") {
      // Revoked, expired or reused: this session is over; the app should sign in again.
      await this.update((st) => ({ installationId: st.installationId, environment: st.environment, region: st.region, pendingReauthentication: true }));
      throw new TokendeskSdkError("sessionEnded", description || "The session has ended; sign in again.", res.status, body);
    }
    throw new TokendeskSdkError("http", `Refreshing failed with HTTP ${res.status}.`, res.status, body);
  }
}

export function createTokendeskClient(options: TokendeskClientOptions): TokendeskClient {
  return new TokendeskClient(options);
}
