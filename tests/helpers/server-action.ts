/**
 * Calling the console's server actions over HTTP, as the browser does (and as a crafted request
 * would): POST to a page that uses the action, with the `Next-Action` header naming it and the
 * arguments in React's reply encoding. Lets a test act as any staff session — including one whose
 * console would never show the button — and read the action's own answer.
 *
 * Action ids come from the build's server-reference manifest (they change with every build).
 * Shared by the HTTP tests (tests/http) and the Playwright specs (e2e/), which both test a build.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What staffAction answers (server/actions.ts ActionResult), decoded from the RSC reply. */
export type ActionAnswer = { ok: true; data: unknown; message?: string } | { ok: false; code: string; error: string; field?: string };

export interface ActionCall {
  /** The action's file under app/, e.g. "app/(console)/staff/actions.ts". */
  file: string;
  /** Its exported name. */
  name: string;
  /** A page that uses it, as a URL path (the action runs in that page's server bundle). */
  page: string;
  fields: Record<string, string>;
  /**
   * "state": a `useActionState` action, called (previousState, formData) — every staffAction.
   * "form": a plain `<form action>` action, called (formData).
   */
  shape?: "state" | "form";
  /** Plain arguments, for an action a component calls from code rather than a form (fields unused). */
  args?: unknown[];
}

export interface ActionReply {
  status: number;
  /** The action's answer; null when it redirected instead. */
  answer: ActionAnswer | null;
  /** Where the action sent the browser (`redirect()`), if it did. */
  redirect: string | null;
}

let manifest: Record<string, { filename?: string; exportedName?: string }> | null = null;

/** The build's id for an action (NEXT_DIST_DIR or .next). */
export function actionId(file: string, name: string): string {
  if (!manifest) {
    const dist = process.env.NEXT_DIST_DIR || ".next";
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, dist, "server", "server-reference-manifest.json"), "utf8")) as {
      node: Record<string, { filename?: string; exportedName?: string }>;
    };
    manifest = json.node;
  }
  const hit = Object.entries(manifest).find(([, v]) => v.filename === file && v.exportedName === name);
  if (!hit) throw new Error(`No server action ${name} in ${file} in this build: rebuild (next build) after changing actions.`);
  return hit[0];
}

/**
 * React's reply encoding of (null, formData) or (formData): the form's entries under the prefix
 * `_1_`, then the root model at "0" naming them — the root must come last, because the server
 * resolves the reference as soon as it reads the root.
 */
function encodeArgs(fields: Record<string, string>, shape: "state" | "form"): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(`_1_${k}`, v);
  body.append("0", JSON.stringify(shape === "state" ? [null, "$K1"] : ["$K1"]));
  return body;
}

/** React's reply encoding of plain JSON arguments (a string starting with "$" is escaped as "$$"). */
function encodeValues(args: unknown[]): FormData {
  const body = new FormData();
  body.append(
    "0",
    JSON.stringify(args, (_k, v: unknown) => (typeof v === "string" && v.startsWith("$") ? `$${v}` : v)),
  );
  return body;
}

/** The action's return value from an RSC reply: row 0 is `{ a: <value or "$@row">, ... }`. */
function decodeAnswer(text: string): ActionAnswer | null {
  const rows = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+):(.*)$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  // RSC's escapes in plain values: "$undefined" is undefined, "$$..." a string starting with "$".
  const revive = (_key: string, v: unknown) => (v === "$undefined" ? undefined : typeof v === "string" && v.startsWith("$$") ? v.slice(1) : v);
  const root = rows.get("0");
  if (!root) return null;
  let value = (JSON.parse(root, revive) as { a?: unknown }).a;
  if (typeof value === "string" && value.startsWith("$@")) value = JSON.parse(rows.get(value.slice(2)) ?? "null", revive);
  return (value as ActionAnswer) ?? null;
}

/** Posts the action with `cookie` (a session's Cookie header, or "" for no session). */
export async function callAction(baseUrl: string, cookie: string, call: ActionCall): Promise<ActionReply> {
  const res = await fetch(`${baseUrl}${call.page}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "Next-Action": actionId(call.file, call.name),
      Accept: "text/x-component",
      Origin: baseUrl,
      ...(cookie ? { Cookie: cookie } : {}),
    },
    body: call.args ? encodeValues(call.args) : encodeArgs(call.fields, call.shape ?? "state"),
  });
  const text = await res.text();
  const redirect = res.headers.get("x-action-redirect");
  if (redirect) return { status: res.status, answer: null, redirect: redirect.split(";")[0]! };
  return { status: res.status, answer: decodeAnswer(text), redirect: null };
}

/** Signs a staff member in through next-auth's credentials endpoint and returns the session's Cookie header. */
export async function staffCookie(baseUrl: string, email: string, password: string, headers: Record<string, string> = {}): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const csrf = await fetch(`${baseUrl}/api/auth/csrf`, { headers });
  keep(csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded", Cookie: header() },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: "/", json: "true" }),
  });
  keep(res);
  const session = [...jar.keys()].find((k) => k.endsWith("next-auth.session-token"));
  if (!session) throw new Error(`sign-in of ${email} failed (${res.status}): ${await res.text()}`);
  return `${session}=${jar.get(session)}`;
}
