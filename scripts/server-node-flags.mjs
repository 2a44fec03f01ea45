/**
 * The Node flags every tokendesk server process starts with: `npm start` (scripts/start.mjs), the
 * tests' and the benchmark's servers (scripts/next-server.ts, e2e/start-tokendesk.mjs) and the container (deploy/Dockerfile's
 * CMD, which repeats them: keep the two in step).
 *
 * `--max-semi-space-size=64` (MB; V8's default is 16 on 64-bit): the young generation where each
 * request's short-lived objects live. With Next's bundle in the same process the old generation
 * holds ~250–400 MB; at 16 MB the objects of requests still in flight survive two scavenges and are
 * promoted into it, and it then needs full mark-compact collections that pause the event loop for
 * 10–100 ms. Measured on this machine (npm run bench, open-loop mint / device registration /
 * device refresh, 4,800 requests each run): 13 pauses over 10 ms and 472 ms of GC against 28–47
 * and 1,087–1,111 ms with the default; at 32 MB, 24 and 889 ms. The cost is memory: the young
 * generation is three semi-spaces, so up to 3 × (64 − 16) = 144 MiB more under load (README, "What runs").
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=64"];
