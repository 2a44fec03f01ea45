/**
 * Signs each demo role in once, through next-auth's API rather than the form (the form has its own
 * spec), and saves the session as e2e/.auth/<role>.json for the specs to reuse.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test as setup } from "@playwright/test";
import { authFile, DEMO_STAFF, signInThroughApi } from "./fixtures";

for (const member of DEMO_STAFF) {
  setup(`sign in as ${member.role}`, async ({ request }) => {
    const landed = await signInThroughApi(request, member.email, member.password);
    expect(landed).not.toContain("error=");
    const session = await (await request.get("/api/auth/session")).json();
    expect(session).toMatchObject({ staffId: expect.any(String), user: { email: member.email } });
    fs.mkdirSync(path.dirname(authFile(member.role)), { recursive: true });
    await request.storageState({ path: authFile(member.role) });
  });
}
