/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native/WASM packages stay as plain Node requires instead of being bundled.
  serverExternalPackages: ["@electric-sql/pglite", "@node-rs/argon2", "postgres"],
  experimental: {
    // forbidden() renders app/forbidden.tsx with a real 403.
    authInterrupts: true,
  },
  poweredByHeader: false,
  // Separate build directories let several builds (tests, benchmarks, a dev server) coexist.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  typedRoutes: false,
};

export default nextConfig;
