CREATE TABLE "audit_archives" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"from_seal" bigint NOT NULL,
	"to_seal" bigint NOT NULL,
	"to_txid" bigint NOT NULL,
	"last_digest" text NOT NULL,
	"event_count" integer NOT NULL,
	"file" text NOT NULL,
	"sha256" text NOT NULL,
	"hmac" text NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_settings" (
	"environment" text PRIMARY KEY NOT NULL,
	"sign_in_tokens_days" integer DEFAULT 7 NOT NULL,
	"ended_sessions_days" integer DEFAULT 30 NOT NULL,
	"idv_captured_days" integer DEFAULT 30 NOT NULL,
	"device_refresh_tokens_days" integer DEFAULT 30 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
