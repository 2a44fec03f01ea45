/**
 * Reading IDV requests: the credential a session call
 * presents, and a step's body — JSON form fields or a multipart photo — within its size limit.
 */
import { z } from "zod";
import { badRequest, DomainError } from "@/lib/errors";
import { presentedApiKey, readBodyBytes as readHttpBody, readJson } from "@/lib/http";
import { MAX_IMAGE_BYTES } from "@/lib/idv/images";
import type { StepInput } from "@/lib/idv/sessions";
import { presentedToken } from "@/lib/idv/tokens";

/** A session call carries an ephemeral token (`et_...`, bare or `Token`) or an API key (any IDV form). */
export function sessionCredential(req: Request): { kind: "token"; token: string | null } | { kind: "key"; key: string | null } {
  const auth = req.headers.get("authorization");
  const token = presentedToken(auth);
  if (!req.headers.get("x-vital-api-key") && (!token || token.startsWith("et_") || /^Token\s/i.test(auth ?? ""))) return { kind: "token", token };
  return { kind: "key", key: presentedApiKey(req, "idv") };
}

/** The body of an upload, refused past `maxBytes` without buffering it all. */
export function readBodyBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  return readHttpBody(req, maxBytes, "The upload is larger than 10 MiB.");
}

/** Room for the multipart envelope and a few form fields around a 10 MiB photo. */
const MULTIPART_OVERHEAD = 64 * 1024;

const fieldsBody = z.object({ fields: z.record(z.string(), z.unknown(), "must be an object of field names to values") });

export async function readStepInput(req: Request): Promise<StepInput> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) {
    const bytes = await readBodyBytes(req, MAX_IMAGE_BYTES + MULTIPART_OVERHEAD);
    let form: FormData;
    try {
      form = await new Response(bytes as BodyInit, { headers: { "content-type": req.headers.get("content-type")! } }).formData();
    } catch {
      throw badRequest("The multipart body could not be read.", "invalid_multipart");
    }
    const image = form.get("image");
    if (image && typeof image !== "string") {
      const data = new Uint8Array(await image.arrayBuffer());
      if (data.byteLength > MAX_IMAGE_BYTES) throw new DomainError("payload_too_large", "The photo is larger than 10 MiB.", 413);
      return { kind: "image", bytes: data };
    }
    const fields: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) if (typeof v === "string") fields[k] = v;
    return { kind: "fields", fields };
  }
  if (type.startsWith("application/json") || type === "") {
    const body = await readJson(req, fieldsBody);
    return { kind: "fields", fields: body.fields };
  }
  throw new DomainError("unsupported_media_type", "Send form fields as application/json or a photo as multipart/form-data.", 415);
}
