/**
 * The RBAC matrix: who may open every page, call every console route and run every server action
 * under app/, written out by hand — never derived from `can()`, the code under test. A wrong grant
 * in lib/staff/rbac.ts (or a missing check in a page, route or action) makes a cell fail.
 *
 * One line per entry. `data` says whose data the entry acts on where the environment matters
 * (QA may act in sandbox only), so those entries come twice: sandbox and production.
 *
 * Who runs them:
 *  - pages and routes: e2e/rbac.spec.ts, in Chromium, as each demo role and signed out;
 *  - server actions: tests/http/rbac-actions.test.ts, posted as each role against the production
 *    build on PostgreSQL: an allowed cell must succeed and change what it says; a refused one must
 *    answer the refusal and leave every table as it was;
 *  - tests/unit/rbac-matrix.test.ts fails when a page.tsx, a console route.ts or an exported
 *    function of an actions.ts exists under app/ without a line here (or a line names one that is
 *    gone). Add the line with the page, route or action.
 */

export const WHO = ["admin", "support", "qa", "auditor", "out"] as const;
export type Who = (typeof WHO)[number];

/** Whose data an entry is tried on; "-" where the environment does not enter into it. */
export type Data = "sandbox" | "production" | "-";

/**
 * A page: "shown" = 200 and its heading; 403 = the forbidden page; 404 = not found (the data is
 * hidden from that role); "sign-in" = sent to /login; "console" = sent to the console's home.
 */
export type PageCell = "shown" | 403 | 404 | "sign-in" | "console";

export interface PageEntry extends Record<Who, PageCell> {
  /** The route as its folder under app/ names it, route groups left out: "/users/[id]". */
  page: string;
  /** The URL to open; `:name` is a fixture e2e/rbac.spec.ts creates (see its FIXTURES). */
  url: string;
  data: Data;
  /** The h1 those allowed see (or, for a page without one, a text it shows). */
  heading: string | RegExp | { text: string };
}

// biome-ignore format: one line per entry, columns lined up
export const PAGES: PageEntry[] = [
  { page: "/",              url: "/",                                        data: "-",          heading: /^Hello, /,                   admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/api-keys",      url: "/api-keys",                                data: "-",          heading: "API keys",                   admin: "shown", support: 403,     qa: 403,     auditor: 403,     out: "sign-in" },
  { page: "/audit",         url: "/audit",                                   data: "-",          heading: "Audit log",                  admin: "shown", support: 403,     qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/audit",         url: "/audit?action=staff.&outcome=success",     data: "-",          heading: "Audit log",                  admin: "shown", support: 403,     qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/devices",       url: "/devices",                                 data: "-",          heading: "Devices",                    admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/devices",       url: "/devices?q=rbac-device",                   data: "-",          heading: "Devices",                    admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/devices/[id]",  url: "/devices/:sandboxDevice",                  data: "sandbox",    heading: "rbac-device sandbox",        admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/devices/[id]",  url: "/devices/:productionDevice",               data: "production", heading: "rbac-device production",     admin: "shown", support: "shown", qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/handoffs",      url: "/handoffs",                                data: "-",          heading: "IDV handoffs",               admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/handoffs",      url: "/handoffs?status=submitted&environment=sandbox", data: "-",    heading: "IDV handoffs",               admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/handoffs/[id]", url: "/handoffs/:sandboxHandoff",                data: "sandbox",    heading: "Handoff for rbac-handoff-sandbox",    admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/handoffs/[id]", url: "/handoffs/:productionHandoff",             data: "production", heading: "Handoff for rbac-handoff-production", admin: "shown", support: "shown", qa: 404,     auditor: "shown", out: "sign-in" },
  { page: "/inspector",     url: "/inspector",                               data: "-",          heading: "JWT inspector",              admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/instances",     url: "/instances",                               data: "-",          heading: "Instances",                  admin: "shown", support: 403,     qa: 403,     auditor: 403,     out: "sign-in" },
  { page: "/migrations",    url: "/migrations",                              data: "-",          heading: "Migration off API keys",     admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/security",      url: "/security",                                data: "-",          heading: "Security",                   admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/settings",      url: "/settings",                                data: "-",          heading: "Settings",                   admin: "shown", support: 403,     qa: 403,     auditor: 403,     out: "sign-in" },
  { page: "/staff",         url: "/staff",                                   data: "-",          heading: "Staff",                      admin: "shown", support: 403,     qa: 403,     auditor: 403,     out: "sign-in" },
  { page: "/users",         url: "/users",                                   data: "-",          heading: "Users",                      admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/users",         url: "/users?q=nobody&status=disabled",          data: "-",          heading: "Users",                      admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/users/[id]",    url: "/users/:sandboxUser",                      data: "sandbox",    heading: "Rbac Sandbox",               admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "sign-in" },
  { page: "/users/[id]",    url: "/users/:productionUser",                   data: "production", heading: "Rbac Production",            admin: "shown", support: "shown", qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/webhooks",      url: "/webhooks",                                data: "-",          heading: "Webhooks",                   admin: "shown", support: 403,     qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/webhooks/[id]", url: "/webhooks/:webhookEndpoint",               data: "-",          heading: "https://hooks.example.com/rbac", admin: "shown", support: 403, qa: 403,     auditor: "shown", out: "sign-in" },
  { page: "/workflows",     url: "/workflows",                               data: "-",          heading: "IDV workflows",              admin: "shown", support: 403,     qa: 403,     auditor: 403,     out: "sign-in" },
  // Public pages: the sign-in form, and the phone's side of an IDV handoff (its token is the credential).
  { page: "/login",         url: "/login",                                   data: "-",          heading: { text: "Staff console — sign in to continue" }, admin: "console", support: "console", qa: "console", auditor: "console", out: "shown" },
  { page: "/capture",       url: "/capture",                                 data: "-",          heading: "This link is not valid",     admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "shown" },
  { page: "/mobile",        url: "/mobile",                                  data: "-",          heading: "This link is not valid",     admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "shown" },
  { page: "/h/[code]",      url: "/h/not-a-short-code",                      data: "-",          heading: "This link is not valid",     admin: "shown", support: "shown", qa: "shown", auditor: "shown", out: "shown" },
];

/** A console route: the status each gets (403/404 with a JSON error, 401 signed out). */
export interface RouteEntry extends Record<Who, number> {
  /** The route as its folder under app/ names it: "/api/console/users/[id]/sessions". */
  route: string;
  url: string;
  data: Data;
}

// biome-ignore format: one line per entry, columns lined up
export const ROUTES: RouteEntry[] = [
  { route: "/audit/export",                             url: "/audit/export?format=csv",                              data: "-",          admin: 200, support: 403, qa: 403, auditor: 200, out: 401 },
  { route: "/audit/export",                             url: "/audit/export?format=ndjson&action=staff.",             data: "-",          admin: 200, support: 403, qa: 403, auditor: 200, out: 401 },
  { route: "/migrations/export",                        url: "/migrations/export?format=csv",                         data: "-",          admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/handoffs/[id]",                url: "/api/console/handoffs/:sandboxHandoff",                 data: "sandbox",    admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/handoffs/[id]",                url: "/api/console/handoffs/:productionHandoff",              data: "production", admin: 200, support: 200, qa: 404, auditor: 200, out: 401 },
  { route: "/api/console/handoffs/[id]/images/[step]",  url: "/api/console/handoffs/:sandboxHandoff/images/selfie",    data: "sandbox",    admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/handoffs/[id]/images/[step]",  url: "/api/console/handoffs/:productionHandoff/images/selfie", data: "production", admin: 200, support: 200, qa: 404, auditor: 200, out: 401 },
  { route: "/api/console/sign-in-tokens/[id]",          url: "/api/console/sign-in-tokens/:sandboxSignInToken",       data: "sandbox",    admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/sign-in-tokens/[id]",          url: "/api/console/sign-in-tokens/:productionSignInToken",    data: "production", admin: 200, support: 200, qa: 403, auditor: 200, out: 401 },
  { route: "/api/console/users",                        url: "/api/console/users?q=test",                             data: "-",          admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/users/[id]/sessions",          url: "/api/console/users/:sandboxUser/sessions",              data: "sandbox",    admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/users/[id]/sessions",          url: "/api/console/users/:productionUser/sessions",           data: "production", admin: 200, support: 200, qa: 403, auditor: 200, out: 401 },
  { route: "/api/console/users/[id]/sign-in-tokens",    url: "/api/console/users/:sandboxUser/sign-in-tokens",        data: "sandbox",    admin: 200, support: 200, qa: 200, auditor: 200, out: 401 },
  { route: "/api/console/users/[id]/sign-in-tokens",    url: "/api/console/users/:productionUser/sign-in-tokens",     data: "production", admin: 200, support: 200, qa: 403, auditor: 200, out: 401 },
  // next-auth's own endpoints (sign-in, session, sign-out): open to everyone by design; login.spec.ts tests the flows.
  { route: "/api/auth/[...nextauth]",                   url: "/api/auth/session",                                     data: "-",          admin: 200, support: 200, qa: 200, auditor: 200, out: 200 },
];

/**
 * A server action: "ok" = it succeeds and does what it says; "forbidden" = refused for the role
 * (or QA outside sandbox); "not found" = the data is hidden from the role, so refused as unknown;
 * "hidden" = it answers without revealing or touching the other environment's data; "sign-in" =
 * refused for want of a session; "ticket" = it answers to a live sign-in ticket (the second step of
 * a password sign-in) whoever posts it, and with a wrong one answers nothing. Every refusal leaves
 * the database as it was.
 */
export type ActionCell = "ok" | "forbidden" | "not found" | "hidden" | "sign-in" | "ticket";

export interface ActionEntry extends Record<Who, ActionCell> {
  /** The actions file under app/, as `git ls-files` spells it. */
  file: string;
  /** The exported function. */
  action: string;
  data: Data;
}

const API_KEYS = "app/(console)/api-keys/actions.ts";
const AUDIT = "app/(console)/audit/actions.ts";
const DEVICES = "app/(console)/devices/actions.ts";
const HANDOFFS = "app/(console)/handoffs/actions.ts";
const INSPECTOR = "app/(console)/inspector/actions.ts";
const INSTANCES = "app/(console)/instances/actions.ts";
const LOGIN = "app/(auth)/login/actions.ts";
const SECURITY = "app/(console)/security/actions.ts";
const SETTINGS = "app/(console)/settings/actions.ts";
const STAFF = "app/(console)/staff/actions.ts";
const USERS = "app/(console)/users/[id]/actions.ts";
const USERS_LIST = "app/(console)/users/actions.ts";
const WEBHOOKS = "app/(console)/webhooks/actions.ts";
const WORKFLOWS = "app/(console)/workflows/actions.ts";

// biome-ignore format: one line per entry, columns lined up
export const ACTIONS: ActionEntry[] = [
  { file: API_KEYS,  action: "createApiKeyAction",       data: "sandbox",    admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: API_KEYS,  action: "createApiKeyAction",       data: "production", admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: API_KEYS,  action: "revokeApiKeyAction",       data: "sandbox",    admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: API_KEYS,  action: "revokeApiKeyAction",       data: "production", admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: AUDIT,     action: "verifyAuditAction",        data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "ok",        out: "sign-in" },
  { file: DEVICES,   action: "findDeviceAction",         data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: DEVICES,   action: "findDeviceAction",         data: "production", admin: "ok", support: "ok",        qa: "hidden",    auditor: "ok",        out: "sign-in" },
  { file: DEVICES,   action: "setDeviceDisabledAction",  data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: DEVICES,   action: "setDeviceDisabledAction",  data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: DEVICES,   action: "revokeDeviceTokensAction", data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: DEVICES,   action: "revokeDeviceTokensAction", data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: HANDOFFS,  action: "issueHandoffAction",       data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: HANDOFFS,  action: "issueHandoffAction",       data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: HANDOFFS,  action: "cancelHandoffAction",      data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: HANDOFFS,  action: "cancelHandoffAction",      data: "production", admin: "ok", support: "ok",        qa: "not found", auditor: "forbidden", out: "sign-in" },
  { file: INSPECTOR, action: "inspectJwtAction",         data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: INSPECTOR, action: "inspectJwtAction",         data: "production", admin: "ok", support: "ok",        qa: "hidden",    auditor: "ok",        out: "sign-in" },
  { file: INSTANCES, action: "createInstanceAction",     data: "sandbox",    admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: INSTANCES, action: "createInstanceAction",     data: "production", admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  // The second step of a password sign-in, before any session: a live ticket is the credential.
  { file: LOGIN,     action: "secondStepAction",         data: "-",          admin: "ticket", support: "ticket", qa: "ticket", auditor: "ticket", out: "ticket" },
  { file: LOGIN,     action: "passkeyOptionsAction",     data: "-",          admin: "ticket", support: "ticket", qa: "ticket", auditor: "ticket", out: "ticket" },
  { file: SETTINGS,  action: "updateSettingsAction",     data: "sandbox",    admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: SETTINGS,  action: "updateSettingsAction",     data: "production", admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: SETTINGS,  action: "rotateSigningKeyAction",   data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: SETTINGS,  action: "updateSecurityPolicyAction", data: "-",        admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  // Every member's own second factors: each role manages its own, nobody else's.
  { file: SECURITY,  action: "beginTotpAction",          data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "confirmTotpAction",        data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "removeTotpAction",         data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "beginPasskeyAction",       data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "finishPasskeyAction",      data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "removePasskeyAction",      data: "-",          admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: SECURITY,  action: "regenerateRecoveryCodesAction", data: "-",     admin: "ok", support: "ok",        qa: "ok",        auditor: "ok",        out: "sign-in" },
  { file: STAFF,     action: "createStaffAction",        data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: STAFF,     action: "changeRoleAction",         data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: STAFF,     action: "setDisabledAction",        data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: STAFF,     action: "resetPasswordAction",      data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: STAFF,     action: "resetSecondFactorsAction", data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: STAFF,     action: "removeDemoTeamAction",     data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS_LIST, action: "createUserAction",        data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS_LIST, action: "createUserAction",        data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "updateUserAction",         data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "updateUserAction",         data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "issueSignInTokenAction",   data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "issueSignInTokenAction",   data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "setUserDisabledAction",    data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "setUserDisabledAction",    data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "deleteUserAction",         data: "sandbox",    admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "deleteUserAction",         data: "production", admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeSessionAction",      data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeSessionAction",      data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeAllSessionsAction",  data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeAllSessionsAction",  data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeSignInTokenAction",  data: "sandbox",    admin: "ok", support: "ok",        qa: "ok",        auditor: "forbidden", out: "sign-in" },
  { file: USERS,     action: "revokeSignInTokenAction",  data: "production", admin: "ok", support: "ok",        qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "createEndpointAction",     data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "setEndpointEnabledAction", data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "rotateSecretAction",       data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "deleteEndpointAction",     data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "sendTestEventAction",      data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WEBHOOKS,  action: "replayDeliveryAction",     data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
  { file: WORKFLOWS, action: "createWorkflowAction",     data: "-",          admin: "ok", support: "forbidden", qa: "forbidden", auditor: "forbidden", out: "sign-in" },
];
