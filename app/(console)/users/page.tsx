import type { Metadata } from "next";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, PageHeader } from "@/components/ui/card";
import { Link } from "@/components/ui/link";
import { CreateUserDialog } from "@/components/users/create-user-dialog";
import { UserSearch } from "@/components/users/user-search";
import { UserTable } from "@/components/users/user-table";
import { getDb } from "@/db";
import type { Environment } from "@/lib/environments";
import { isDomainError } from "@/lib/errors";
import { regions } from "@/lib/settings/regions";
import { can, visibleEnvironments } from "@/lib/staff/rbac";
import { countUsers, searchUsers, type UserCount, usersActivity } from "@/lib/users";
import { requireStaffPage } from "@/server/staff-session";
import { createUserAction } from "./actions";

export const metadata: Metadata = { title: "Users" };

type Search = Promise<Record<string, string | string[] | undefined>>;
const PAGE_SIZE = 25;

/** "1,234 users" when counted, "about 1,000,000 users" when estimated (lib/users/list.ts says when). */
function totalText(count: UserCount): string {
  const n = count.total.toLocaleString("en-US");
  return `${count.isEstimate ? "about " : ""}${n} user${count.total === 1 && !count.isEstimate ? "" : "s"}`;
}

export default async function UsersPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage("users:read");
  const raw = await searchParams;
  const one = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : "");
  const environments = visibleEnvironments(actor.role);
  const values = {
    q: one("q").slice(0, 200),
    // qa only ever sees sandbox: the filter is fixed to it rather than offering production.
    environment: environments.length === 1 ? environments[0]! : environments.includes(one("environment") as Environment) ? one("environment") : "",
    status: ["active", "disabled"].includes(one("status")) ? one("status") : "",
  };
  const cursor = one("cursor") || null;
  const base = new URLSearchParams(Object.entries(values).filter(([, v]) => v));

  let body: React.ReactNode;
  try {
    const db = await getDb();
    const filter = { environment: (values.environment || null) as Environment | null, status: (values.status || null) as "active" | "disabled" | null };
    // The total is of the filters, not of a search's matches (which only a full scan could count).
    const [page, count] = await Promise.all([
      searchUsers(db, actor, { q: values.q || null, ...filter, cursor, limit: PAGE_SIZE }),
      countUsers(db, actor, filter),
    ]);
    const activity = await usersActivity(
      db,
      actor,
      page.users.map((u) => u.id),
    );
    const next = new URLSearchParams(base);
    if (page.nextCursor) next.set("cursor", page.nextCursor);
    const filtered = values.status || (values.environment && environments.length > 1);
    body =
      page.users.length === 0 ? (
        cursor ? (
          <EmptyState title="No more users">
            <Link className="text-indigo-700 hover:underline" href={`/users${base.size ? `?${base}` : ""}`}>
              Back to the first page
            </Link>
          </EmptyState>
        ) : values.q ? (
          <EmptyState title={`No user matches “${values.q}”${filtered ? " with these filters" : ""}`}>
            Try the full user id, the client user id your backend sent, an email address or part of a name.
            {filtered ? " Or clear the filters." : ""}
          </EmptyState>
        ) : (
          <EmptyState title={filtered ? "No users with these filters" : "No users yet"}>
            {filtered ? "Clear the filters to see everyone." : "Users appear here when a backend creates them with POST /v2/user."}
          </EmptyState>
        )
      ) : (
        <>
          <UserTable users={page.users} activity={activity} />
          <nav aria-label="Pages" className="mt-4 flex items-center gap-2">
            {cursor ? (
              <Button asChild variant="secondary" size="sm">
                <Link href={`/users${base.size ? `?${base}` : ""}`}>First page</Link>
              </Button>
            ) : null}
            {page.nextCursor ? (
              <Button asChild variant="secondary" size="sm">
                <Link href={`/users?${next}`}>Next page →</Link>
              </Button>
            ) : null}
            <span className="text-xs text-slate-500">
              {page.users.length} user{page.users.length === 1 ? "" : "s"} on this page{page.nextCursor ? "; more on the next" : ""}
            </span>
            <span
              className="ml-auto text-xs text-slate-600"
              data-testid="users-total"
              title={count.isEstimate ? "An estimate: counting every user exactly would read them all." : undefined}
            >
              {totalText(count)}
              {filtered ? " with these filters" : " in all"}
              {values.q ? ", matching or not" : ""}
            </span>
          </nav>
        </>
      );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    body = (
      <Alert tone="error">
        {err.message}{" "}
        <Link className="underline" href="/users">
          Start a new search
        </Link>
      </Alert>
    );
  }

  return (
    <>
      <PageHeader
        title="Users"
        actions={can(actor.role, "users:write") ? <CreateUserDialog action={createUserAction} environments={environments} regions={regions()} /> : null}
        description={
          environments.length === 1
            ? "Find an app user to help them. As QA you see sandbox users only."
            : "Find an app user to help them: their sessions, their history, and a sign-in token when they are stuck."
        }
      />
      <Card>
        <CardBody className="border-b border-slate-200">
          <UserSearch values={values} environments={environments} />
        </CardBody>
        <CardBody aria-live="polite">{body}</CardBody>
      </Card>
    </>
  );
}
