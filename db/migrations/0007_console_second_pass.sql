CREATE TABLE "activity_daily" (
	"day" text NOT NULL,
	"environment" text NOT NULL,
	"metric" text NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "activity_daily_day_environment_metric_pk" PRIMARY KEY("day","environment","metric")
);
--> statement-breakpoint
CREATE TABLE "activity_days" (
	"day" text PRIMARY KEY NOT NULL,
	"final" boolean DEFAULT false NOT NULL,
	"counted_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sign_in_tokens" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sign_in_tokens" ADD COLUMN "revoked_by_type" text;--> statement-breakpoint
ALTER TABLE "sign_in_tokens" ADD COLUMN "revoked_by_id" text;--> statement-breakpoint
CREATE INDEX "idv_sessions_issuer_idx" ON "idv_sessions" USING btree ("issued_by_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sign_in_tokens_issuer_idx" ON "sign_in_tokens" USING btree ("issued_by_id","created_at" DESC NULLS LAST);