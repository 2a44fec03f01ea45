import type { Metadata } from "next";
import { DailyChart } from "@/components/charts/daily-chart";
import { IssuedStateBadge } from "@/components/overview/state-badge";
import { EmptyState } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, Figure, PageHeader } from "@/components/ui/card";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Input } from "@/components/ui/input";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { databaseHandle } from "@/db";
import { appliedSchemaVersion, expectedSchemaVersion } from "@/db/client";
import { config } from "@/lib/config/env";
import { activitySeries, handoffsInProgress, issuedByMe, keysByLastUse, migrationProgress, recentReuse, sealStatus } from "@/lib/overview";
import { can, ROLE_DESCRIPTIONS, ROLE_LABELS } from "@/lib/staff/rbac";
import { requireStaffPage } from "@/server/staff-session";

export const metadata: Metadata = { title: "Overview" };

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function OverviewPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage();
  const sp = await searchParams;
  const days = sp.days === "30" ? 30 : 7;
  const handle = await databaseHandle();
  const db = handle.db;
  const may = (p: Parameters<typeof can>[1]) => can(actor.role, p);

  const [issued, open, activity, migration, reuse, keys, seals] = await Promise.all([
    may("users:issue_tokens") ? issuedByMe(db, actor) : null,
    may("users:read") ? handoffsInProgress(db, actor) : null,
    may("audit:read") ? activitySeries(db, actor, days) : null,
    may("audit:read") ? migrationProgress(db, actor) : null,
    may("audit:read") ? recentReuse(db, actor) : null,
    may("api_keys:manage") ? keysByLastUse(db, actor) : null,
    may("settings:manage") ? sealStatus(db, actor) : null,
  ]);
  const totals = activity
    ? activity.days.reduce(
        (t, d) => ({
          signIns: t.signIns + d.signIns,
          refreshes: t.refreshes + d.refreshes,
          tokensIssued: t.tokensIssued + d.tokensIssued,
          handoffs: t.handoffs + d.handoffs,
          failures: t.failures + d.failures,
          reuse: t.reuse + d.reuse,
        }),
        { signIns: 0, refreshes: 0, tokensIssued: 0, handoffs: 0, failures: 0, reuse: 0 },
      )
    : null;
  const chartDays = activity?.days.map((d) => ({ ...d })) ?? [];

  return (
    <>
      <PageHeader title={`Hello, ${actor.displayName}`} description={`${ROLE_LABELS[actor.role]}: ${ROLE_DESCRIPTIONS[actor.role]}`} />

      {may("users:read") ? (
        <Card className="mb-6">
          <CardBody>
            <form method="get" action="/users" role="search" aria-label="Find a user" className="flex flex-wrap items-end gap-2">
              <label htmlFor="overview-q" className="w-full text-sm font-medium text-slate-700">
                Find a user
              </label>
              <Input
                id="overview-q"
                name="q"
                type="search"
                placeholder="User id, client user id, email or name"
                className="min-w-0 flex-1"
                autoComplete="off"
              />
              <Button type="submit" variant="secondary">
                Search
              </Button>
            </form>
          </CardBody>
        </Card>
      ) : null}

      {issued || open ? (
        <div className="mb-6 grid gap-6 xl:grid-cols-2">
          {issued ? (
            <Card data-testid="issued-by-me">
              <CardHeader title="Issued by you lately" description="Sign-in tokens and IDV handoffs you issued, and where they stand now." />
              <CardBody>
                {issued.length === 0 ? (
                  <EmptyState title="Nothing issued yet">Issue a sign-in token from a user&apos;s page, or a handoff under IDV handoffs.</EmptyState>
                ) : (
                  <Table>
                    <THead>
                      <TR>
                        <TH>What</TH>
                        <TH>For</TH>
                        <TH>Issued</TH>
                        <TH>State</TH>
                      </TR>
                    </THead>
                    <TBody>
                      {issued.map((i) => (
                        <TR key={`${i.kind}-${i.id}`} data-testid="issued-row" data-kind={i.kind} data-id={i.id}>
                          <TD>{i.kind === "sign_in_token" ? "Sign-in token" : "IDV handoff"}</TD>
                          <TD className="max-w-[12rem]">
                            {i.kind === "handoff" ? (
                              <Link className="block truncate text-indigo-700 hover:underline" href={`/handoffs/${i.id}`}>
                                {i.forWhom ?? "handoff"}
                              </Link>
                            ) : i.userId ? (
                              <Link className="block truncate text-indigo-700 hover:underline" href={`/users/${i.userId}`}>
                                {i.forWhom ?? i.userId}
                              </Link>
                            ) : (
                              "—"
                            )}
                          </TD>
                          <TD className="whitespace-nowrap text-xs text-slate-600" title={formatUtc(i.createdAt, { seconds: true })} suppressHydrationWarning>
                            {relativeTime(i.createdAt)}
                          </TD>
                          <TD>
                            <IssuedStateBadge state={i.state} />
                          </TD>
                        </TR>
                      ))}
                    </TBody>
                  </Table>
                )}
              </CardBody>
            </Card>
          ) : null}
          {open ? (
            <Card data-testid="handoffs-in-progress">
              <CardHeader
                title={`Handoffs in progress${open.count ? ` (${open.count >= 100 ? "100+" : open.count})` : ""}`}
                description="Open handoff links, soonest to expire first."
                actions={
                  <Link className="text-sm text-indigo-700 hover:underline" href="/handoffs?status=in_progress">
                    All handoffs
                  </Link>
                }
              />
              <CardBody>
                {open.handoffs.length === 0 ? (
                  <EmptyState title="No handoff is open right now" />
                ) : (
                  <ul className="divide-y divide-slate-100">
                    {open.handoffs.map((h) => (
                      <li key={h.id} className="flex items-center justify-between gap-3 py-2 text-sm" data-testid="open-handoff">
                        <Link className="min-w-0 truncate text-indigo-700 hover:underline" href={`/handoffs/${h.id}`}>
                          {h.forWhom ?? h.id}
                        </Link>
                        <span className="flex shrink-0 items-center gap-2">
                          <span className="text-xs text-slate-600">{h.environment}</span>
                          <IssuedStateBadge state={h.status} />
                          <span className="text-xs text-slate-600" title={formatUtc(h.expiresAt)} suppressHydrationWarning>
                            expires {relativeTime(h.expiresAt)}
                          </span>
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </CardBody>
            </Card>
          ) : null}
        </div>
      ) : null}

      {activity && totals ? (
        <Card className="mb-6" data-testid="activity">
          <CardHeader
            title={`Activity, last ${days} days`}
            description={`Per day (UTC)${activity.countedAt ? `; today counted at ${formatUtc(activity.countedAt).slice(11)}` : "; counting has not run yet"}. Counts update every 15 seconds.`}
            actions={
              <nav aria-label="Period" className="flex gap-1">
                {[7, 30].map((n) => (
                  <Button key={n} asChild size="sm" variant={n === days ? "primary" : "secondary"}>
                    <Link href={n === 7 ? "/" : "/?days=30"} aria-current={n === days ? "page" : undefined}>
                      {n} days
                    </Link>
                  </Button>
                ))}
              </nav>
            }
          />
          <CardBody>
            <div className="mb-4 grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
              <Figure label="Sign-ins" value={totals.signIns.toLocaleString("en-US")} hint="tokens exchanged" testId="total-signIns" />
              <Figure label="Refreshes" value={totals.refreshes.toLocaleString("en-US")} hint="SDK token refreshes" testId="total-refreshes" />
              <Figure label="Tokens issued" value={totals.tokensIssued.toLocaleString("en-US")} hint="sign-in tokens" testId="total-tokensIssued" />
              <Figure label="Handoffs" value={totals.handoffs.toLocaleString("en-US")} hint="IDV links issued" testId="total-handoffs" />
              <Figure label="Failures" value={totals.failures.toLocaleString("en-US")} hint="refused or failed" testId="total-failures" />
              <Figure label="Reuse detected" value={totals.reuse.toLocaleString("en-US")} hint="sessions ended" testId="total-reuse" />
            </div>
            <div className="grid gap-6 xl:grid-cols-2">
              <div>
                <h3 className="mb-2 text-sm font-semibold text-slate-900">Sign-ins and refreshes</h3>
                <DailyChart
                  title="Sign-ins and refreshes per day"
                  testId="chart-sessions"
                  days={chartDays}
                  series={[
                    { key: "signIns", label: "Sign-ins", color: "indigo-600" },
                    { key: "refreshes", label: "Refreshes", color: "emerald-600" },
                  ]}
                />
              </div>
              <div>
                <h3 className="mb-2 text-sm font-semibold text-slate-900">Issued</h3>
                <DailyChart
                  title="Sign-in tokens and handoffs issued per day"
                  testId="chart-issued"
                  kind="bar"
                  days={chartDays}
                  series={[
                    { key: "tokensIssued", label: "Sign-in tokens", color: "indigo-600" },
                    { key: "handoffs", label: "Handoffs", color: "sky-600" },
                  ]}
                />
              </div>
              <div>
                <h3 className="mb-2 text-sm font-semibold text-slate-900">Failures and reuse</h3>
                <DailyChart
                  title="Failures and refresh-token reuse per day"
                  testId="chart-failures"
                  kind="bar"
                  stacked
                  days={chartDays}
                  series={[
                    { key: "failures", label: "Failures", color: "amber-600" },
                    { key: "reuse", label: "Reuse detected", color: "red-600" },
                  ]}
                />
              </div>
              {migration ? (
                <div data-testid="migration-progress">
                  <h3 className="mb-2 text-sm font-semibold text-slate-900">Migration off API keys</h3>
                  <div className="grid grid-cols-3 gap-3">
                    <Figure label="Seen on keys" value={migration.seen.toLocaleString("en-US")} testId="migration-seen" />
                    <Figure label="Migrated" value={migration.migrated.toLocaleString("en-US")} testId="migration-migrated" />
                    <Figure label="Still on keys" value={migration.stillOnKeys.toLocaleString("en-US")} hint="used a key in 30 days" testId="migration-still" />
                  </div>
                  <p className="mt-2 text-sm">
                    <Link className="text-indigo-700 hover:underline" href="/migrations">
                      Open the migration report
                    </Link>
                  </p>
                  {reuse ? (
                    <>
                      <h3 className="mt-4 mb-2 text-sm font-semibold text-slate-900">Latest refresh-token reuse</h3>
                      {reuse.length === 0 ? (
                        <p className="text-sm text-slate-600">None detected.</p>
                      ) : (
                        <ul className="space-y-1 text-sm" data-testid="reuse-list">
                          {reuse.map((r) => (
                            <li key={r.id} className="flex justify-between gap-2">
                              {r.userId ? (
                                <Link className="truncate font-mono text-xs text-indigo-700 hover:underline" href={`/users/${r.userId}`}>
                                  {r.userId}
                                </Link>
                              ) : (
                                <span className="text-slate-600">unknown user</span>
                              )}
                              <span className="shrink-0 text-xs text-slate-600" suppressHydrationWarning>
                                {relativeTime(r.occurredAt)}
                              </span>
                            </li>
                          ))}
                        </ul>
                      )}
                    </>
                  ) : null}
                </div>
              ) : null}
            </div>
          </CardBody>
        </Card>
      ) : null}

      {keys || seals ? (
        <div className="grid gap-6 xl:grid-cols-2">
          {keys ? (
            <Card data-testid="keys-by-use">
              <CardHeader
                title="API keys by last use"
                actions={
                  <Link className="text-sm text-indigo-700 hover:underline" href="/api-keys">
                    Manage keys
                  </Link>
                }
              />
              <CardBody>
                {keys.length === 0 ? (
                  <EmptyState title="No live API keys" />
                ) : (
                  <ul className="divide-y divide-slate-100 text-sm">
                    {keys.map((k) => (
                      <li key={k.id} className="flex justify-between gap-3 py-2">
                        <span className="min-w-0">
                          <span className="block truncate font-medium">{k.name}</span>
                          <span className="font-mono text-xs text-slate-600">
                            {k.prefix}… · {k.environment}
                          </span>
                        </span>
                        <span className="shrink-0 text-xs text-slate-600" title={k.lastUsedAt ? formatUtc(k.lastUsedAt) : undefined} suppressHydrationWarning>
                          {k.lastUsedAt ? `used ${relativeTime(k.lastUsedAt)}` : "never used"}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </CardBody>
            </Card>
          ) : null}
          {seals ? (
            <Card data-testid="instance-health">
              <CardHeader title="This deployment" description="The audit log's seals and the database." />
              <CardBody>
                <dl className="grid grid-cols-[10rem_minmax(0,1fr)] gap-y-2 text-sm">
                  <dt className="text-slate-600">Audit seals</dt>
                  <dd data-testid="seal-status">
                    {seals.newestSealAt
                      ? `Seal #${seals.newestSealSeq} ${relativeTime(seals.newestSealAt)}; ${seals.unsealed >= 100_000 ? "100,000+" : seals.unsealed.toLocaleString("en-US")} event${seals.unsealed === 1 ? "" : "s"} waiting`
                      : "No seal yet"}
                  </dd>
                  <dt className="text-slate-600">Anchor</dt>
                  <dd>
                    Kept outside the database: <code className="font-mono text-xs">tokendesk audit anchor</code>, checked by{" "}
                    <Link className="text-indigo-700 underline" href="/audit">
                      verify
                    </Link>
                  </dd>
                  <dt className="text-slate-600">Database</dt>
                  <dd>
                    {handle.kind === "pglite" ? "Embedded (PGlite)" : "PostgreSQL"}, schema {await appliedSchemaVersion(db)} of {expectedSchemaVersion()}
                  </dd>
                  <dt className="text-slate-600">Public URL</dt>
                  <dd className="truncate">{config().publicUrl}</dd>
                </dl>
              </CardBody>
            </Card>
          ) : null}
        </div>
      ) : null}
    </>
  );
}
