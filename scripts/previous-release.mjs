#!/usr/bin/env node
import { execFileSync, spawnSync } from "node:child_process";
/**
 * The previous release, ready to serve, for the rolling-upgrade test (tests/upgrade/): its source
 * from git (`git archive`, no worktree left behind) in a directory of its own, this checkout's
 * node_modules linked in (every package the previous release locked is in this lock at the same
 * version; checked below), and its production build — made once per commit and kept in
 * node_modules/.cache/tokendesk-previous/<commit>/, so a second run and CI's later runs copy it
 * instead of building again.
 *
 *   node scripts/previous-release.mjs [commit]      # prepares it and prints the directory
 *   import { preparePreviousRelease } from "./previous-release.mjs"
 *
 * PREVIOUS_RELEASE (a commit) overrides the default: the commit this release's work started from.
 * Move DEFAULT_PREVIOUS_RELEASE forward when a release is cut.
 *
 * The build runs where the release is served, in the temporary directory, never inside
 * node_modules/.cache: Next's compiler leaves every file under a node_modules path untranspiled.
 * The directory's name is fixed per commit and checkout, so a build restored from the cache runs
 * from the path it was made in. Webpack, not Turbopack: Turbopack refuses a node_modules symlink
 * that leads out of the project.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const DEFAULT_PREVIOUS_RELEASE = "29e282a124538ce204b271f6559b73146007cca1";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function git(args, opts = {}) {
  return execFileSync("git", ["-C", ROOT, ...args], { maxBuffer: 256 * 1024 * 1024, ...opts });
}

/** Every package the previous lock installs must be in this checkout's node_modules at its version. */
function assertCompatibleModules(commit) {
  const previous = JSON.parse(git(["show", `${commit}:package-lock.json`]).toString("utf8")).packages ?? {};
  const current = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")).packages ?? {};
  const differ = Object.entries(previous)
    .filter(([p, meta]) => p.startsWith("node_modules/") && !meta.optional && current[p]?.version !== meta.version)
    .map(([p, meta]) => `${p} ${meta.version} (this checkout: ${current[p]?.version ?? "absent"})`);
  if (differ.length > 0) {
    throw new Error(
      `The previous release ${commit.slice(0, 12)} locks packages this checkout does not have at the same version, so its ` +
        `node_modules cannot be shared:\n  ${differ.slice(0, 20).join("\n  ")}`,
    );
  }
}

/**
 * Returns { commit, dir, source: "ready" | "cache" | "built", seconds }. `dir` holds the release's
 * source, node_modules (a link) and .next; serve it with `next start` from there.
 * @param {string} [requested] a commit (default PREVIOUS_RELEASE, else DEFAULT_PREVIOUS_RELEASE)
 * @param {(line: string) => void} [log] progress lines
 * @returns {{ commit: string, dir: string, source: "ready" | "cache" | "built", seconds: number }}
 */
export function preparePreviousRelease(requested = process.env.PREVIOUS_RELEASE || DEFAULT_PREVIOUS_RELEASE, log = () => {}) {
  const started = Date.now();
  let commit;
  try {
    commit = git(["rev-parse", "--verify", "--quiet", `${requested}^{commit}`])
      .toString("utf8")
      .trim();
  } catch {
    throw new Error(
      `The previous release ${requested} is not in this clone's history (a shallow clone?): fetch it, or set PREVIOUS_RELEASE to a commit that is.`,
    );
  }
  const tag = createHash("sha1").update(ROOT).digest("hex").slice(0, 8);
  const dir = path.join(os.tmpdir(), `tokendesk-previous-${commit.slice(0, 12)}-${tag}`);
  const cache = path.join(ROOT, "node_modules", ".cache", "tokendesk-previous", commit);
  const done = path.join(dir, ".tokendesk-previous-ready");
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  if (fs.existsSync(done)) return { commit, dir, source: "ready", seconds: seconds() };

  assertCompatibleModules(commit);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["-x", "-C", dir], { input: git(["archive", "--format=tar", commit]) });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");

  let source = "cache";
  if (fs.existsSync(path.join(cache, ".next", "BUILD_ID"))) {
    log(`previous release ${commit.slice(0, 12)}: build restored from ${path.relative(ROOT, cache)}`);
    fs.cpSync(path.join(cache, ".next"), path.join(dir, ".next"), { recursive: true });
  } else {
    source = "built";
    log(`previous release ${commit.slice(0, 12)}: building it once in ${dir} (cached afterwards)`);
    const build = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "build", "--webpack"], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        NEXT_DIST_DIR: ".next",
        // The previous release was type-checked when it was made; its types against this
        // checkout's newer @types would only cost minutes.
        TOKENDESK_SKIP_TYPECHECK: "1",
      },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (build.status !== 0) {
      throw new Error(`Building the previous release ${commit.slice(0, 12)} failed (exit ${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
    }
    // Webpack's own cache (.next/cache) is what a rebuild would reuse; a restore needs only the output.
    // Copied beside the cache, then renamed into place: a run killed mid-copy (the background build
    // of `npm test` is, when an earlier step fails) leaves no half cache that would pass for a build.
    const staging = `${cache}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(path.join(dir, ".next"), path.join(staging, ".next"), {
      recursive: true,
      filter: (src) => src !== path.join(dir, ".next", "cache"),
    });
    fs.rmSync(cache, { recursive: true, force: true });
    fs.renameSync(staging, cache);
  }
  fs.writeFileSync(done, `${commit}\n`);
  return { commit, dir, source, seconds: seconds() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = preparePreviousRelease(process.argv[2] || undefined, (line) => console.error(line));
  console.log(`${r.dir} (${r.source} in ${r.seconds} s)`);
}
