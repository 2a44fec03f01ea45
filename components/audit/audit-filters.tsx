import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/input";
import { AUDIT_ACTION_NAMES, AUDIT_ACTIONS, AUDIT_OUTCOMES } from "@/lib/audit/actions";

const families = [...new Set(AUDIT_ACTION_NAMES.map((a) => a.split(".")[0]!))];

/** A plain GET form: the filters live in the URL, so a filtered view can be shared as a link. */
export function AuditFilters({ values }: { values: Record<string, string> }) {
  const v = (k: string) => values[k] ?? "";
  return (
    <form method="get" action="/audit" className="grid grid-cols-2 gap-3 md:grid-cols-4 lg:grid-cols-8" aria-label="Filter the audit log">
      <Field label="Actor" htmlFor="f-actor" className="col-span-2">
        <Input id="f-actor" name="actor" defaultValue={v("actor")} placeholder="email, name or id" />
      </Field>
      <Field label="Action" htmlFor="f-action" className="col-span-2">
        <Select id="f-action" name="action" defaultValue={v("action")}>
          <option value="">Any action</option>
          {families.map((f) => (
            <optgroup key={f} label={f}>
              <option value={`${f}.`}>All {f} actions</option>
              {AUDIT_ACTION_NAMES.filter((a) => a.startsWith(`${f}.`)).map((a) => (
                <option key={a} value={a}>
                  {AUDIT_ACTIONS[a]}
                </option>
              ))}
            </optgroup>
          ))}
        </Select>
      </Field>
      <Field label="Target type" htmlFor="f-tt">
        <Input id="f-tt" name="targetType" defaultValue={v("targetType")} placeholder="user, staff…" />
      </Field>
      <Field label="Target id" htmlFor="f-ti">
        <Input id="f-ti" name="targetId" defaultValue={v("targetId")} />
      </Field>
      <Field label="Environment" htmlFor="f-env">
        <Select id="f-env" name="environment" defaultValue={v("environment")}>
          <option value="">Any</option>
          <option value="sandbox">sandbox</option>
          <option value="production">production</option>
        </Select>
      </Field>
      <Field label="Outcome" htmlFor="f-outcome">
        <Select id="f-outcome" name="outcome" defaultValue={v("outcome")}>
          <option value="">Any</option>
          {AUDIT_OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="From" htmlFor="f-from" className="col-span-2" hint="UTC">
        <Input id="f-from" name="from" type="datetime-local" defaultValue={v("from")} />
      </Field>
      <Field label="To" htmlFor="f-to" className="col-span-2" hint="UTC, exclusive">
        <Input id="f-to" name="to" type="datetime-local" defaultValue={v("to")} />
      </Field>
      <div className="col-span-2 flex items-end gap-2 md:col-span-4 lg:col-span-4">
        <Button type="submit">Apply filters</Button>
        <Button asChild variant="ghost">
          <a href="/audit">Clear</a>
        </Button>
      </div>
    </form>
  );
}
