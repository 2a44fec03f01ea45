-- Rate-limit buckets now know until when they refuse (blocked_until) and when they are forgotten
-- (expires_at; the janitor deletes them). The old rows go first: their keys held what clients typed
-- (an email box can hold a password), and their windows were at most 15 minutes long anyway.
DELETE FROM "rate_limits";--> statement-breakpoint
ALTER TABLE "device_refresh_tokens" ADD COLUMN "grace_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "device_refresh_tokens" ADD COLUMN "successor_id" uuid;--> statement-breakpoint
ALTER TABLE "device_refresh_tokens" ADD COLUMN "replaced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "refresh_grace_seconds" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD COLUMN "blocked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD COLUMN "expires_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "successor_id" uuid;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "replaced_at" timestamp with time zone;--> statement-breakpoint
-- Seal numbers run 1, 2, 3... without gaps (after an archive, on from its checkpoint's last seal): the
-- sealer now sets previous + 1 and moves the sequence along (the column keeps its default, so a
-- previous release sealing during a rolling upgrade takes the next number too). Existing seals are
-- renumbered in order once: a seal's digest does not cover its number, so nothing verification
-- checks changes.
UPDATE "audit_seals" SET "seq" = -n.rn FROM (SELECT "seq", row_number() OVER (ORDER BY "seq") AS rn FROM "audit_seals") AS n WHERE "audit_seals"."seq" = n."seq";--> statement-breakpoint
UPDATE "audit_seals" SET "seq" = -"seq" + COALESCE((SELECT max("to_seal") FROM "audit_archives"), 0);--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('audit_seals', 'seq'), GREATEST(last.m, 1), last.m > 0) FROM (SELECT COALESCE((SELECT max("seq") FROM "audit_seals"), (SELECT max("to_seal") FROM "audit_archives"), 0) AS m) AS last;