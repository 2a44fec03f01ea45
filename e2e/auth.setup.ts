/**
 * Signs each demo role in once, through next-auth's API rather than the form (the form has its own
 * spec), and saves the session as e2e/.auth/<role>.json for the specs to reuse.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test as setup } from "@playwright/test";
import postgres from "postgres";
import { authFile, DEMO_STAFF, signInThroughApi } from "./fixtures";

/**
 * With E2E_POSTGRES_URL the run must really be on PostgreSQL: the fresh database that
 * e2e/start-tokendesk.mjs made (tokendesk_e2e_<port>) records each sign-in. A server that fell
 * back to the embedded database would leave it untouched, and the run would pass on the wrong one.
 */
const postgresUrl = process.env.E2E_POSTGRES_URL;
async function lastSignInOnPostgres(email: string): Promise<Date | null> {
  const url = new URL(postgresUrl!);
  url.pathname = `/tokendesk_e2e_${process.env.E2E_PORT ?? "3210"}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ last_sign_in_at: Date | null }[]>`select last_sign_in_at from staff where email = ${email}`;
    return row?.last_sign_in_at ?? null;
  } finally {
    await sql.end();
  }
}

for (const member of DEMO_STAFF) {
  setup(`sign in as ${member.role}`, async ({ request }) => {
    const landed = await signInThroughApi(request, member.email, member.password);
    expect(landed).not.toContain("error=");
    const session = await (await request.get("/api/auth/session")).json();
    expect(session).toMatchObject({ staffId: expect.any(String), user: { email: member.email } });
    if (postgresUrl) expect(await lastSignInOnPostgres(member.email)).toBeInstanceOf(Date);
    fs.mkdirSync(path.dirname(authFile(member.role)), { recursive: true });
    await request.storageState({ path: authFile(member.role) });
  });
}
