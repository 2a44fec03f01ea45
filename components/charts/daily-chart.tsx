"use client";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Series {
  /** The key of each day's value. */
  key: string;
  label: string;
  /** A Tailwind palette variable, so the colour turns with dark mode: "indigo-600". */
  color: string;
}

const color = (c: string) => `var(--color-${c})`;
const shortDay = (day: string) => day.slice(5);

/**
 * A chart of figures per day (recharts): axes with values, a tooltip per day, a legend — and the
 * same figures in a table for screen readers and for copying, which the chart is hidden from.
 */
export function DailyChart({
  title,
  days,
  series,
  kind = "line",
  stacked = false,
  testId,
}: {
  title: string;
  days: Array<Record<string, number | string>>;
  series: Series[];
  kind?: "line" | "bar";
  stacked?: boolean;
  testId?: string;
}) {
  const axis = { stroke: color("slate-400"), tick: { fill: color("slate-600"), fontSize: 12 } };
  const tooltip = (
    <Tooltip
      contentStyle={{ background: color("white"), border: `1px solid ${color("slate-200")}`, borderRadius: 6, fontSize: 12 }}
      labelStyle={{ color: color("slate-900"), fontWeight: 600 }}
      cursor={{ fill: color("slate-100"), stroke: color("slate-300") }}
    />
  );
  return (
    <figure data-testid={testId}>
      <div aria-hidden className="h-56 w-full">
        <ResponsiveContainer width="100%" height="100%">
          {kind === "line" ? (
            <LineChart accessibilityLayer={false} data={days} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={color("slate-200")} vertical={false} />
              <XAxis dataKey="day" tickFormatter={shortDay} {...axis} minTickGap={16} />
              <YAxis allowDecimals={false} width={44} {...axis} />
              {tooltip}
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {series.map((s) => (
                <Line
                  key={s.key}
                  type="monotone"
                  dataKey={s.key}
                  name={s.label}
                  stroke={color(s.color)}
                  strokeWidth={2}
                  dot={days.length <= 7}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          ) : (
            <BarChart accessibilityLayer={false} data={days} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={color("slate-200")} vertical={false} />
              <XAxis dataKey="day" tickFormatter={shortDay} {...axis} minTickGap={16} />
              <YAxis allowDecimals={false} width={44} {...axis} />
              {tooltip}
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {series.map((s) => (
                <Bar key={s.key} dataKey={s.key} name={s.label} fill={color(s.color)} stackId={stacked ? "all" : undefined} isAnimationActive={false} />
              ))}
            </BarChart>
          )}
        </ResponsiveContainer>
      </div>
      <table className="sr-only" data-testid={testId ? `${testId}-table` : undefined}>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            {series.map((s) => (
              <th key={s.key} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr key={String(d.day)} data-day={d.day}>
              <th scope="row">{d.day}</th>
              {series.map((s) => (
                <td key={s.key} data-key={s.key}>
                  {d[s.key] ?? 0}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
