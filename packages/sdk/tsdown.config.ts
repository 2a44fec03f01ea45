import { defineConfig, type UserConfig } from "tsdown";

// ESM + CJS with declarations for both. Declarations come from oxc's isolated declarations (every
// export has an explicit type), so the build needs no TypeScript compiler API: the repository's
// TypeScript 7 has none. `.` is platform-neutral (browsers, React Native, Node); `./node` is Node's.
const shared: UserConfig = {
  format: ["esm", "cjs"],
  target: "es2022",
  dts: { oxc: true },
  fixedExtension: false,
  sourcemap: false,
  clean: false, // the build script empties dist/ once, before both configs run
};

export default defineConfig([
  { ...shared, entry: { index: "src/index.ts" }, platform: "neutral" },
  { ...shared, entry: { node: "src/node.ts" }, platform: "node", deps: { neverBundle: ["proper-lockfile"] } },
]);
