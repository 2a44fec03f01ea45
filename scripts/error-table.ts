/**
 * Prints the error-code table (lib/errors.ts) as the Markdown the README's "Error codes" section
 * holds: `npx tsx scripts/error-table.ts`. tests/unit/errors.test.ts fails when the two disagree.
 */
import { ERROR_CODES } from "@/lib/errors";

console.log("| code | HTTP status | meaning |\n| --- | --- | --- |");
for (const [code, spec] of Object.entries(ERROR_CODES)) console.log(`| \`${code}\` | ${spec.status} | ${spec.meaning} |`);
