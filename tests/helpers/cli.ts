/**
 * How the integration tests run the `tokendesk` command as a child process.
 *
 * cliArgs(): node's arguments for the CLI bundled by esbuild — the container's tokendesk.mjs,
 * built once per run by tests/helpers/cli-global-setup.ts — with the migrations folder the package
 * ships (bin/tokendesk.mjs sets the same; the container finds it beside the bundle).
 * TSX_BIN: the `npx tokendesk` path (bin/tokendesk.mjs through tsx): ≈ 3 s of CPU more per run, so
 * only a few tests take it (cli.test.ts's first, cli-operator.test.ts's --version/--help).
 */
import path from "node:path";
import { inject } from "vitest";
import { ROOT } from "./server";

export const TSX_BIN = path.join(ROOT, "bin", "tokendesk.mjs");

/**
 * What the bundle needs when run from another directory (the tests run from os.tmpdir()): the
 * container sets it beside the bundle. Not given to the tsx path, so bin/tokendesk.mjs's own lookup
 * of the migrations folder stays tested.
 */
export const CLI_ENV = { TOKENDESK_MIGRATIONS_DIR: path.join(ROOT, "db", "migrations") };

/** The script node runs for `tokendesk …`: the bundle (default) or bin/tokendesk.mjs through tsx. */
export function cliScript(via: "bundle" | "tsx" = "bundle"): string {
  return via === "tsx" ? TSX_BIN : inject("cliBundle");
}
