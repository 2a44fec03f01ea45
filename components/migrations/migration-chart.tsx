/**
 * Migrations per day as an inline SVG bar chart (completed above the axis, rejected below), with
 * the same numbers in a visually hidden table for screen readers. No chart library: it is a
 * few dozen rectangles.
 */
export function MigrationChart({ daily, from, to }: { daily: Array<{ day: string; completed: number; rejected: number }>; from: Date; to: Date }) {
  const days: string[] = [];
  for (let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); t < to.getTime(); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const max = Math.max(1, ...daily.map((d) => Math.max(d.completed, d.rejected)));
  const width = 720;
  const height = 180;
  const mid = 120;
  const bar = Math.max(2, Math.floor(width / Math.max(days.length, 1)) - 2);
  const step = width / Math.max(days.length, 1);
  return (
    <figure data-testid="migration-chart">
      <svg viewBox={`0 0 ${width} ${height}`} className="h-48 w-full" role="img" aria-labelledby="mig-chart-title">
        <title id="mig-chart-title">Migrations per day: completed (green, up) and rejected (red, down)</title>
        <line x1="0" x2={width} y1={mid} y2={mid} stroke="#cbd5e1" />
        {days.map((day, i) => {
          const d = byDay.get(day);
          const up = d ? Math.round(((mid - 10) * d.completed) / max) : 0;
          const down = d ? Math.round(((height - mid - 5) * d.rejected) / max) : 0;
          return (
            <g key={day}>
              {up > 0 ? <rect data-day={day} data-completed={d!.completed} x={i * step + 1} y={mid - up} width={bar} height={up} fill="#059669" /> : null}
              {down > 0 ? <rect data-day={day} data-rejected={d!.rejected} x={i * step + 1} y={mid + 1} width={bar} height={down} fill="#dc2626" /> : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-1 flex justify-between text-xs text-slate-500">
        <span>{days[0]}</span>
        <span>
          <span className="mr-3 inline-block h-2 w-2 bg-emerald-600" /> completed <span className="ml-3 mr-1 inline-block h-2 w-2 bg-red-600" /> rejected
        </span>
        <span>{days[days.length - 1]}</span>
      </figcaption>
      <table className="sr-only">
        <caption>Migrations per day</caption>
        <thead>
          <tr>
            <th>Day</th>
            <th>Completed</th>
            <th>Rejected</th>
          </tr>
        </thead>
        <tbody>
          {daily.map((d) => (
            <tr key={d.day}>
              <td>{d.day}</td>
              <td>{d.completed}</td>
              <td>{d.rejected}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
