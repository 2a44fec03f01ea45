export interface Snapshot {
  tables?: Record<
    string,
    { name: string; columns: Record<string, { name: string; type: string; notNull?: boolean; default?: unknown; primaryKey?: boolean }> }
  >;
  enums?: Record<string, { name: string; values: string[] }>;
}
export function compareSnapshots(prev: Snapshot, next: Snapshot, allowed?: Set<string>): string[];
export function checkMigrations(dir?: string): { migrations: number; problems: string[] };
