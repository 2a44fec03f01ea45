/**
 * The IDV handoff family: a customer backend mints an ephemeral token (or a whole deeplink) with
 * its API key; the phone, holding only that token, starts its one session, fills in each step and
 * submits; the backend reads the result with a `sessions:read` key.
 */
import { z } from "zod";
import { apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import { config } from "@/lib/config/env";
import { DomainError } from "@/lib/errors";
import { createDeeplink, deeplinkInput } from "@/lib/idv/handoff";
import { MAX_IMAGE_BYTES } from "@/lib/idv/images";
import {
  localeSchema,
  metadataSchema,
  mintEphemeralToken,
  readSessionWithKey,
  readSessionWithToken,
  type StepInput,
  startSession,
  submitSession,
  submitStep,
  ttlSchema,
} from "@/lib/idv/sessions";
import { jsonResponse, readBodyBytes, unfitText } from "../http";
import { jsonError, presentedApiKey, readJson, withApiKey, withErrors } from "../machine-api";

/** `Authorization: <token>` or `Authorization: Token <token>`. */
function presentedToken(header: string | null): string | null {
  if (!header) return null;
  const v = header
    .trim()
    .replace(/^Token\s+/i, "")
    .trim();
  return v || null;
}

/** A session call carries an ephemeral token (`et_...`, bare or `Token`) or an API key (any IDV form). */
function sessionCredential(req: Request): { kind: "token"; token: string | null } | { kind: "key"; key: string | null } {
  const auth = req.headers.get("authorization");
  const token = presentedToken(auth);
  if (!req.headers.get("x-vital-api-key") && (!token || token.startsWith("et_") || /^Token\s/i.test(auth ?? ""))) return { kind: "token", token };
  return { kind: "key", key: presentedApiKey(req, "idv") };
}

/** Room for the multipart envelope and a few form fields around a 10 MiB photo. */
const MULTIPART_OVERHEAD = 64 * 1024;

export const fieldsBody = z.object({ fields: z.record(z.string(), z.unknown(), "must be an object of field names to values") });

/** A step's body — JSON form fields or a multipart photo — within its size limit. */
async function readStepInput(req: Request): Promise<StepInput> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) {
    const bytes = await readBodyBytes(req, MAX_IMAGE_BYTES + MULTIPART_OVERHEAD, "The upload is larger than 10 MiB.");
    let form: FormData;
    try {
      form = await new Response(bytes as BodyInit, { headers: { "content-type": req.headers.get("content-type")! } }).formData();
    } catch {
      throw new DomainError("invalid_multipart", "The multipart body could not be read.");
    }
    const image = form.get("image");
    if (image && typeof image !== "string") {
      const data = new Uint8Array(await image.arrayBuffer());
      if (data.byteLength > MAX_IMAGE_BYTES) throw new DomainError("payload_too_large", "The photo is larger than 10 MiB.");
      return { kind: "image", bytes: data };
    }
    const fields: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) {
      if (typeof v !== "string") continue;
      // The same rule as a JSON body's strings (server/http.ts parseJsonText): no NUL, no lone surrogate.
      const badName = unfitText(k);
      const why = badName ?? unfitText(v);
      if (why) throw new DomainError("validation_failed", `${badName ? "A field name" : k} ${why}.`, badName ? {} : { field: k });
      fields[k] = v;
    }
    return { kind: "fields", fields };
  }
  if (type.startsWith("application/json") || type === "") {
    const body = await readJson(req, fieldsBody);
    return { kind: "fields", fields: body.fields };
  }
  throw new DomainError("unsupported_media_type", "Send form fields as application/json or a photo as multipart/form-data.");
}

export const ephemeralBody = z.object({ ttl: ttlSchema.optional() });

/** POST /api/device/ephemeral {ttl?} → {authorization, expiresAt}: a token for one IDV session. */
export const mintEphemeralTokenRoute = withApiKey(
  "ephemeral_devices:write",
  async (req, { db, actor, meta }) => {
    const input = await readJson(req, ephemeralBody, { optional: true });
    const minted = await mintEphemeralToken(db, actor, { ttl: input.ttl }, meta);
    return jsonResponse({ authorization: minted.authorization, expiresAt: minted.expiresAt }, { headers: { "Cache-Control": "no-store" } });
  },
  { headerForms: "idv" },
);

export const startBody = z.object({ metadata: metadataSchema.optional(), locale: localeSchema.optional() });

/** POST /api/sessions?workflowId= with `Authorization: <token>`: the token starts its one session. */
export const startSessionRoute = withErrors(async (req, { db, meta }) => {
  const workflowId = new URL(req.url).searchParams.get("workflowId")?.trim();
  if (!workflowId) return jsonError("validation_failed", "workflowId: the workflowId query parameter is required.", { field: "workflowId" });
  const input = await readJson(req, startBody, { optional: true });
  const session = await startSession(
    db,
    presentedToken(req.headers.get("authorization")),
    { workflowId, metadata: input.metadata, locale: input.locale },
    meta,
  );
  return jsonResponse(session, { headers: { "Cache-Control": "no-store" } });
});

/** GET /api/sessions/{id}: with the session's own token, or an API key with sessions:read. */
export const readSessionRoute = withErrors<{ id: string }>(async (req, { db, meta, params }) => {
  const cred = sessionCredential(req);
  const session =
    cred.kind === "token"
      ? await readSessionWithToken(db, cred.token, params.id)
      : await readSessionWithKey(db, apiKeyActor(await authenticateApiKey(db, cred.key, "sessions:read", meta)), params.id);
  return jsonResponse(session, { headers: { "Cache-Control": "no-store" } });
});

/** POST /api/sessions/{id}/steps/{step}: JSON `{fields}` for a form step, multipart `image` for a photo. */
export const submitStepRoute = withErrors<{ id: string; step: string }>(async (req, { db, meta, params }) => {
  // The body is read only once the token owns the session (a bogus token's upload is never read).
  const session = await submitStep(db, presentedToken(req.headers.get("authorization")), params.id, params.step, () => readStepInput(req), meta);
  return jsonResponse(session, { headers: { "Cache-Control": "no-store" } });
});

/** POST /api/sessions/{id}/submit: every step captured → submitted (once). */
export const submitSessionRoute = withErrors<{ id: string }>(async (req, { db, meta, params }) => {
  const session = await submitSession(db, presentedToken(req.headers.get("authorization")), params.id, meta);
  return jsonResponse(session, { headers: { "Cache-Control": "no-store" } });
});

/** POST /api/v1/deeplink?workflowId= {metadata?, locale?, ttl?} → {url, createdAt, expiresAt, workflowIds}. */
export const createDeeplinkRoute = withApiKey(
  "ephemeral_devices:write",
  async (req, { db, actor, meta }) => {
    const workflowId = new URL(req.url).searchParams.get("workflowId")?.trim();
    if (!workflowId) return jsonError("validation_failed", "workflowId: the workflowId query parameter is required.", { field: "workflowId" });
    const input = await readJson(req, deeplinkInput, { optional: true });
    const link = await createDeeplink(db, actor, config().publicUrl, workflowId, input, meta);
    return jsonResponse(link, { headers: { "Cache-Control": "no-store" } });
  },
  { headerForms: "idv" },
);
