#!/usr/bin/env node
// The `tokendesk` command (package.json "bin"). The CLI is TypeScript sharing lib/ and db/ with the
// server, so it runs through tsx instead of a separate build; the project's tsconfig gives it the
// same `@/` path alias the app uses, whatever directory the command is run from.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
register({ tsconfig: path.join(root, "tsconfig.json") });
// Migrations ship with the package: find them even when run from another directory.
process.env.TOKENDESK_MIGRATIONS_DIR ??= path.join(root, "db", "migrations");

const { main } = await import("../cli/index.ts");
await main(process.argv);
