-- Hand-written: which events an endpoint receives is decided by transaction ids, not clocks
-- (lib/webhooks/outbox.ts). The column is added with 0 first, so the endpoints that exist keep
-- receiving every event the fan-out has not passed yet; only then does the default become the
-- creating transaction's id, which also covers the previous release's inserts during a rolling
-- upgrade (they do not name the column).
ALTER TABLE "webhook_endpoints" ADD COLUMN "created_txid" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ALTER COLUMN "created_txid" SET DEFAULT (pg_current_xact_id()::text)::bigint;
