/**
 * Ids as tokendesk reads them from the outside (paths, forms, filters).
 *
 * Any UUID PostgreSQL's `uuid` type takes in its canonical form, whatever its version bits: ids are
 * looked up, not minted, here (z.uuid() insists on RFC 9562 version/variant nibbles, which refused
 * ids of imported data and made the benchmark's generated ids fall through to substring search).
 */
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_SHAPE.test(value);
}
