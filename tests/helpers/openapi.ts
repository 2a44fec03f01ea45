/**
 * Checks a real answer of the server against what /openapi.json documents for it: the operation
 * (path template + method), the status (or `default`), and the JSON body against its schema
 * (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). The HTTP suite's helpers run every answer
 * through it, so an answer that drifts from the document fails the test that received it.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { openApiDocument } from "@/server/openapi/document";

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>>; components?: object };

let doc: Doc | null = null;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const compiled = new Map<string, ValidateFunction>();

/**
 * The document the server serves, generated here from the same code (tests/http/openapi.test.ts
 * checks the served one): no extra request, so no fetch of this helper shares a socket with the
 * test's own calls.
 */
export function openApiDocumentOf(baseUrl: string): Doc {
  doc ??= JSON.parse(JSON.stringify(openApiDocument(baseUrl, "test"))) as Doc;
  return doc;
}

/** The documented path template a concrete path falls under (literal segments win over parameters). */
export function templateOf(d: Doc, pathname: string): string | null {
  const candidates = Object.keys(d.paths).filter((t) => new RegExp(`^${t.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(pathname));
  candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return candidates[0] ?? null;
}

/**
 * Throws when the answer is not what the document says. Paths the document does not describe
 * (a test's deliberately unknown path) are the front's 404s: they must carry a JSON error.
 */
export async function assertDocumented(
  baseUrl: string,
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): Promise<void> {
  const d = openApiDocumentOf(baseUrl);
  const pathname = new URL(path, baseUrl).pathname;
  const template = templateOf(d, pathname);
  const operation = template ? d.paths[template]![method.toLowerCase()] : undefined;
  if (!operation) return; // 404/405 of the front for paths and methods that do not exist: the family tests assert those.
  const response = operation.responses[String(status)] ?? (status >= 400 ? operation.responses.default : undefined);
  if (!response) throw new Error(`${method} ${template} answered ${status}, which /openapi.json does not document.`);
  const type = (contentType ?? "").split(";")[0]!.trim();
  if (!response.content || type !== "application/json") return;
  const schema = response.content["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${template} ${status} answered JSON, which /openapi.json does not document.`);
  const key = `${method} ${template} ${status in operation.responses ? status : "default"}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: d.components });
    compiled.set(key, validate);
  }
  if (!validate(body)) {
    throw new Error(`${key}: the answer does not fit its documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
