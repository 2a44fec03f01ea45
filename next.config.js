/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native/WASM packages stay as plain Node requires instead of being bundled.
  serverExternalPackages: ["@electric-sql/pglite", "@node-rs/argon2", "postgres"],
  experimental: {
    // forbidden() renders app/forbidden.tsx with a real 403.
    authInterrupts: true,
    // `npm run bench -- --profile` builds unminified so CPU profiles name our functions.
    serverMinification: process.env.TOKENDESK_PROFILE_BUILD !== "1",
  },
  poweredByHeader: false,
  // The container (deploy/Dockerfile) runs dist/standalone, assembled from this output by
  // scripts/build-standalone.mjs: only the files the server needs, not the whole node_modules.
  output: "standalone",
  // Separate build directories let several builds (tests, benchmarks, a dev server) coexist.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  typedRoutes: false,
  // `npm test` and CI always type-check (the build and \`npm run typecheck\`); a developer may skip it
  // for a quick local build while other work in the tree is half-done.
  typescript: { ignoreBuildErrors: process.env.TOKENDESK_SKIP_TYPECHECK === "1" },
};

export default nextConfig;
