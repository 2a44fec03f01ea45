/**
 * The OpenAPI document (server/openapi/document.ts) against the route table: it validates as
 * OpenAPI 3.1 with a real validator, documents every machine route and nothing else (so a route
 * added to server/routes/index.ts fails here until it is documented), gives every operation an
 * answer and its error codes, and every example fits its own schema.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "@/lib/errors";
import { WEBHOOK_EVENT_TYPES, webhookBody } from "@/lib/webhooks/events";
import { openApiDocument, openApiPath } from "@/server/openapi/document";
import { MACHINE_ROUTES } from "@/server/routes";

const doc = openApiDocument("https://tokens.example.com", "0.0.0-test") as any;
const documented = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

describe("the OpenAPI document", () => {
  // Compiling the OpenAPI 3.1 meta-schema takes seconds on a busy machine.
  it("is valid OpenAPI 3.1", { timeout: 60_000 }, async () => {
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it("documents exactly the routes of the route table (CORS preflights aside)", () => {
    const routes = MACHINE_ROUTES.filter((r) => r.method !== "OPTIONS").map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(documented().sort()).toEqual([...new Set(routes)].sort());
  });

  it("gives every operation a summary, a success answer, and error answers that name their codes", () => {
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.summary, where).toBeTruthy();
        expect(
          Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
          where,
        ).toBe(true);
        for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          if (!/^[45]\d\d$/.test(status)) continue;
          expect(response.description, `${where} ${status}`).toMatch(/`[A-Za-z_.[\]]+`/); // the codes, named
        }
      }
    }
    // The families' credentials, as API.md names them.
    expect(schemes.sort()).toEqual(["apiKey", "bearer", "deviceBearer", "ephemeralToken", "idvApiKey", "instanceId", "instanceKey"]);
  });

  it("lists each JSON-family error code under the status the error-code table gives it", () => {
    let listed = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      if (!/^\/(v2|api)\//.test(path)) continue; // /oauth speaks RFC 6749, /v1 the telematics envelope
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          const codes: string[] = response.content?.["application/json"]?.schema?.properties?.error?.properties?.code?.enum ?? [];
          for (const code of codes) {
            expect(ERROR_CODES, `${method.toUpperCase()} ${path}: ${code}`).toHaveProperty(code);
            expect(String(ERROR_CODES[code as keyof typeof ERROR_CODES].status), `${method.toUpperCase()} ${path}: ${code}`).toBe(status);
            listed++;
          }
        }
      }
    }
    expect(listed).toBeGreaterThan(50);
  });

  it("has examples that fit their own schemas", { timeout: 30_000 }, () => {
    const ajv = new Ajv2020({ strict: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    let checked = 0;
    for (const item of Object.values(doc.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(item)) {
        const media = [
          op.requestBody?.content?.["application/json"],
          ...Object.values(op.responses as Record<string, any>).map((r) => r.content?.["application/json"]),
        ];
        for (const m of media) {
          if (!m?.example || !m.schema) continue;
          const validate = ajv.compile({ ...m.schema, components: doc.components });
          expect(validate(m.example), ajv.errorsText(validate.errors)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it("documents every webhook event with its headers and a body schema that the payloads tokendesk sends fit", () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES, "webhook.test"].sort());
    const ajv = new Ajv2020({ strict: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    for (const [type, item] of Object.entries(doc.webhooks as Record<string, any>)) {
      const op = item.post;
      expect(op.summary, type).toBeTruthy();
      expect(op.parameters.map((p: any) => `${p.in}:${p.name}`).sort(), type).toEqual([
        "header:webhook-id",
        "header:webhook-signature",
        "header:webhook-timestamp",
      ]);
      const schema = op.requestBody.content["application/json"].schema;
      expect(schema.properties.type.const, type).toBe(type);
      expect(schema.required.sort()).toEqual(["data", "timestamp", "type", "version"]);
    }
    // A real payload, as the outbox writes it, against the published schema (strict: no stray field).
    const validate = ajv.compile({ ...doc.webhooks["device.registered"].post.requestBody.content["application/json"].schema, components: doc.components });
    const body = webhookBody("device.registered", new Date(), { device_id: "d", instance_id: "i", client_id: null, environment: "sandbox" });
    expect(validate(JSON.parse(JSON.stringify(body))), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...body, data: { ...body.data, device_token: "x" } })).toBe(false);
  });
});
