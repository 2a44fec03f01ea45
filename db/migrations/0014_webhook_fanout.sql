CREATE TABLE "webhook_fanout_cursor" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"to_txid" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_fanout_cursor_one_row" CHECK ("webhook_fanout_cursor"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "webhook" jsonb;--> statement-breakpoint
-- Hand-written: the fan-out starts at this transaction's id. Every audit row written before has no
-- webhook event (the release before this one wrote deliveries itself), so an upgraded log of
-- millions of rows is never walked; the first fan-out covers only what this release writes.
INSERT INTO "webhook_fanout_cursor" ("id", "to_txid") VALUES (1, (pg_current_xact_id()::text)::bigint);
