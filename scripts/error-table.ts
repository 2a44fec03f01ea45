/**
 * Prints the error-code table (lib/errors.ts) as the Markdown the README's "Error codes" section
 * holds: `npx tsx scripts/error-table.ts`. tests/unit/errors.test.ts fails when the two disagree.
 */
import { errorTableMarkdown } from "@/lib/errors";

console.log(errorTableMarkdown());
