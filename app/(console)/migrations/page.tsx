import type { Metadata } from "next";
import { AuditTable } from "@/components/audit/audit-table";
import { DailyChart } from "@/components/charts/daily-chart";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, Figure, PageHeader } from "@/components/ui/card";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Field, Input, Select } from "@/components/ui/input";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getDb } from "@/db";
import { listMigrationEvents } from "@/lib/api-key-migration/events";
import { type KeyMigrationSummary, migrationReport, RECENT_USE_DAYS } from "@/lib/api-key-migration/report";
import { actorNames } from "@/lib/audit/names";
import { decodeCursor } from "@/lib/audit/query";
import { isDomainError } from "@/lib/errors";
import { requireStaffPage } from "@/server/staff-session";

export const metadata: Metadata = { title: "Migration off API keys" };

type Search = Promise<Record<string, string | string[] | undefined>>;

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Every day of the period, the quiet ones at zero: a chart's axis shows time as it passed. */
function everyDay(daily: Array<{ day: string; completed: number; rejected: number }>, from: Date, to: Date) {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const days: Array<{ day: string; completed: number; rejected: number }> = [];
  for (let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); t < to.getTime(); t += 86_400_000) {
    const d = day(new Date(t));
    days.push(byDay.get(d) ?? { day: d, completed: 0, rejected: 0 });
  }
  return days;
}

/** Whether revoking the key breaks something, and the calls that say so (with when they happened). */
function SafetyBadge({ k }: { k: KeyMigrationSummary }) {
  const when = (d: Date | null) => (d ? relativeTime(d) : "never");
  const badge =
    k.safety === "revoked" ? (
      <Badge>Revoked</Badge>
    ) : k.safety === "safe" ? (
      <Badge tone="good">Safe to revoke</Badge>
    ) : k.safety === "in_use" ? (
      <Badge tone="warn">
        In use by {k.recentlyActiveRemaining} app{k.recentlyActiveRemaining === 1 ? "" : "s"}
      </Badge>
    ) : (
      <Badge tone="warn">In use by a backend</Badge>
    );
  return (
    <div data-testid="revoke-safety" data-safety={k.safety}>
      {badge}
      {k.safety === "revoked" ? null : (
        <dl className="mt-1 text-xs text-slate-600" suppressHydrationWarning>
          <div title={k.lastUsedAt ? formatUtc(k.lastUsedAt, { seconds: true }) : undefined}>
            <dt className="inline">Last call: </dt>
            <dd className="inline" data-testid="key-last-used">
              {when(k.lastUsedAt)}
            </dd>
          </div>
          {k.recentlyActiveRemaining > 0 ? (
            <div title={k.remainingLastSeenAt ? formatUtc(k.remainingLastSeenAt, { seconds: true }) : undefined}>
              <dt className="inline">Un-migrated app: </dt>
              <dd className="inline">{when(k.remainingLastSeenAt)}</dd>
            </div>
          ) : null}
        </dl>
      )}
    </div>
  );
}

export default async function MigrationsPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage("migrations:read");
  const raw = await searchParams;
  const v = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : "");
  const db = await getDb();

  let report: Awaited<ReturnType<typeof migrationReport>> | undefined;
  let events: Awaited<ReturnType<typeof listMigrationEvents>> | undefined;
  let allKeys: KeyMigrationSummary[] = [];
  let names: Awaited<ReturnType<typeof actorNames>> | undefined;
  let error: string | null = null;
  const apiKeyId = /^[0-9a-f-]{36}$/i.test(v("apiKeyId")) ? v("apiKeyId") : undefined;
  const outcome = v("outcome") === "completed" || v("outcome") === "rejected" ? (v("outcome") as "completed" | "rejected") : undefined;
  try {
    report = await migrationReport(db, actor, {
      from: v("from") ? new Date(`${v("from")}T00:00:00Z`) : undefined,
      to: v("to") ? new Date(`${v("to")}T00:00:00Z`) : undefined,
      apiKeyId,
    });
    // The key picker lists every key, whichever is selected.
    allKeys = apiKeyId ? (await migrationReport(db, actor, {})).keys : report.keys;
    events = await listMigrationEvents(
      db,
      actor,
      { from: report.from, to: report.to, apiKeyId, outcome },
      { cursor: decodeCursor(v("cursor") || null), limit: 25 },
    );
    names = await actorNames(
      db,
      events.events.map((e) => ({ type: e.actorType, id: e.actorId })),
    );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    error = err.message;
  }

  const base = new URLSearchParams();
  for (const k of ["from", "to", "apiKeyId", "outcome"]) if (v(k)) base.set(k, v(k));
  const exportQuery = new URLSearchParams(base);
  if (report) {
    exportQuery.set("from", report.from.toISOString());
    exportQuery.set("to", report.to.toISOString());
  }

  return (
    <>
      <PageHeader
        title="Migration off API keys"
        description="Which app installations still sign in with a Team API key, which have moved to sign-in tokens, and when a key is safe to revoke."
      />
      <Card className="mb-6">
        <CardBody>
          <form method="get" className="flex flex-wrap items-end gap-3" aria-label="Report period">
            <Field label="From (UTC)" htmlFor="m-from">
              <Input id="m-from" name="from" type="date" defaultValue={v("from") || (report ? day(report.from) : "")} />
            </Field>
            <Field label="To (UTC, exclusive)" htmlFor="m-to">
              <Input id="m-to" name="to" type="date" defaultValue={v("to")} />
            </Field>
            <Field label="API key" htmlFor="m-key">
              <Select id="m-key" name="apiKeyId" defaultValue={apiKeyId ?? ""}>
                <option value="">All keys</option>
                {allKeys.map((k) => (
                  <option key={k.apiKeyId} value={k.apiKeyId}>
                    {k.name} ({k.prefix}…)
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Events" htmlFor="m-outcome">
              <Select id="m-outcome" name="outcome" defaultValue={outcome ?? ""}>
                <option value="">Completed and rejected</option>
                <option value="completed">Completed</option>
                <option value="rejected">Rejected</option>
              </Select>
            </Field>
            <Button type="submit">Show</Button>
          </form>
        </CardBody>
      </Card>

      {error ? (
        <Alert tone="error" className="mb-6">
          {error}
        </Alert>
      ) : null}
      {report && events ? (
        <>
          <div className="mb-6 grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5" data-testid="migration-totals">
            <Figure label="Installations on API keys" value={report.totals.seen} hint="apps that called with a key in the period" testId="totals-seen" />
            <Figure label="Migrated" value={report.totals.migrated} hint="of those apps, now on sign-in tokens" testId="totals-migrated" />
            <Figure label="Remaining" value={report.totals.remaining} hint="of those apps, still on a key" testId="totals-remaining" />
            <Figure
              label="Migrations completed"
              value={report.totals.completedEvents}
              hint="events; an app can migrate more than once"
              testId="totals-completed-events"
            />
            <Figure label="Rejected migrations" value={report.totals.rejected} hint="events, see why below" testId="totals-rejected" />
          </div>

          <Card className="mb-6">
            <CardHeader title="Migrations per day" description={`${day(report.from)} to ${day(report.to)} (UTC)`} />
            <CardBody>
              <DailyChart
                title="Migration events per day"
                testId="migration-chart"
                kind="bar"
                days={everyDay(report.daily, report.from, report.to)}
                series={[
                  { key: "completed", label: "Completed", color: "emerald-600" },
                  { key: "rejected", label: "Rejected", color: "red-600" },
                ]}
              />
            </CardBody>
          </Card>

          <Card className="mb-6">
            <CardHeader
              title="By API key"
              description={`Seen, migrated and remaining count app installations; rejected counts refused migrations. "Safe to revoke" means nothing called with the key in the last ${RECENT_USE_DAYS} days — neither an app that has not migrated nor a backend.`}
            />
            <CardBody>
              {report.keys.length === 0 ? (
                <EmptyState title="No API keys yet" />
              ) : (
                <Table className="table-fixed [overflow-wrap:anywhere]">
                  <colgroup>
                    <col className="w-[22%]" />
                    <col className="w-[12%]" />
                    <col className="w-[9%]" />
                    <col className="w-[11%]" />
                    <col className="w-[11%]" />
                    <col className="w-[10%]" />
                    <col />
                    <col className="w-[15%]" />
                  </colgroup>
                  <THead>
                    <TR>
                      <TH>Key</TH>
                      <TH>Env / region</TH>
                      <TH className="text-right">Seen</TH>
                      <TH className="text-right">Migrated</TH>
                      <TH className="text-right">Remaining</TH>
                      <TH className="text-right">Rejected</TH>
                      <TH>Why rejected</TH>
                      <TH>Revoke?</TH>
                    </TR>
                  </THead>
                  <TBody>
                    {report.keys.map((k) => (
                      <TR key={k.apiKeyId} data-testid={`migration-key-${k.prefix}`}>
                        <TD>
                          <span className="block font-medium">{k.name}</span>
                          <span className="font-mono text-xs text-slate-500">{k.prefix}…</span>
                        </TD>
                        <TD>
                          {k.environment} / {k.region}
                        </TD>
                        <TD className="text-right" data-col="seen">
                          {k.seen}
                        </TD>
                        <TD className="text-right" data-col="migrated">
                          {k.migrated}
                        </TD>
                        <TD className="text-right" data-col="remaining">
                          {k.remaining}
                        </TD>
                        <TD className="text-right" data-col="rejected">
                          {k.rejected}
                        </TD>
                        <TD className="text-xs">
                          {Object.entries(k.rejectedByReason)
                            .map(([r, n]) => `${r.replace(/_/g, " ")} × ${n}`)
                            .join(", ") || "—"}
                        </TD>
                        <TD>
                          <SafetyBadge k={k} />
                        </TD>
                      </TR>
                    ))}
                  </TBody>
                </Table>
              )}
            </CardBody>
          </Card>

          <Card>
            <CardHeader
              title="Migration events"
              actions={
                <div className="flex gap-2">
                  <Button asChild variant="secondary" size="sm">
                    <a href={`/migrations/export?format=csv&${exportQuery}`}>Export CSV</a>
                  </Button>
                  <Button asChild variant="secondary" size="sm">
                    <a href={`/migrations/export?format=ndjson&${exportQuery}`}>Export NDJSON</a>
                  </Button>
                </div>
              }
            />
            <CardBody>
              {events.events.length === 0 ? (
                <EmptyState title="No migration events in this period" />
              ) : (
                <>
                  <AuditTable events={events.events} names={names} />
                  {events.nextCursor ? (
                    <Button asChild variant="secondary" size="sm" className="mt-4">
                      <Link href={`/migrations?${new URLSearchParams({ ...Object.fromEntries(base), cursor: events.nextCursor })}`}>Older events →</Link>
                    </Button>
                  ) : null}
                </>
              )}
            </CardBody>
          </Card>
        </>
      ) : null}
    </>
  );
}
