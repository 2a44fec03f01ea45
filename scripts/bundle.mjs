/**
 * The esbuild bundles of the container (scripts/build-standalone.mjs): the server front and the
 * `tokendesk` CLI. The integration tests run the CLI from the same bundle (tests/helpers/cli.ts),
 * built by bundleCli() into a directory of their own, so what they test is what the container ships.
 *
 * Native and WASM packages (PGlite, argon2, postgres.js) and Next itself stay external: node
 * resolves them from the node_modules beside (or above) the bundle.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const EXTERNAL = ["next", "@electric-sql/pglite", "postgres", "@node-rs/argon2", "pino-pretty"];

function commonOptions() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  return {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: [...EXTERNAL, "next/*"],
    tsconfig: path.join(ROOT, "tsconfig.json"),
    logLevel: "warning",
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: {
      js: [
        'import { createRequire as __tdCreateRequire } from "node:module";',
        "const require = __tdCreateRequire(import.meta.url);",
        `process.env.TOKENDESK_VERSION ??= ${JSON.stringify(pkg.version)};`,
      ].join("\n"),
    },
  };
}

/** server.ts (the front, lib/, server/) as one ES module: `node server.mjs`. */
export async function bundleServer(outfile) {
  await build({ ...commonOptions(), entryPoints: [path.join(ROOT, "server.ts")], outfile });
}

/**
 * The CLI as one ES module: `node tokendesk.mjs migrate`. The CLI picks its commands up from
 * cli/commands at run time; a bundle lists them instead (cli/index.ts reads __tokendeskCommands).
 */
export async function bundleCli(outfile) {
  const commandFiles = fs
    .readdirSync(path.join(ROOT, "cli", "commands"))
    .filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))
    .sort();
  fs.mkdirSync(path.join(ROOT, "dist"), { recursive: true });
  const entryDir = fs.mkdtempSync(path.join(ROOT, "dist", "cli-entry-"));
  const entry = path.join(entryDir, "entry.ts");
  fs.writeFileSync(
    entry,
    `${commandFiles.map((f, i) => `import * as c${i} from "../../cli/commands/${f}";`).join("\n")}
import { main } from "../../cli/index";
(globalThis as { __tokendeskCommands?: unknown[] }).__tokendeskCommands = [${commandFiles.map((_, i) => `c${i}`).join(", ")}];
await main(process.argv);
`,
  );
  try {
    await build({ ...commonOptions(), entryPoints: [entry], outfile });
  } finally {
    fs.rmSync(entryDir, { recursive: true, force: true });
  }
}
