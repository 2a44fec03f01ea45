CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE TABLE "api_key_installations" (
	"api_key_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"installation_id" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"migrated_at" timestamp with time zone,
	"migrated_session_id" uuid,
	CONSTRAINT "api_key_installations_api_key_id_user_id_installation_id_pk" PRIMARY KEY("api_key_id","user_id","installation_id")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"scopes" text[] NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_by" text,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revoke_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_refresh_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"instance_id" uuid NOT NULL,
	"device_token_hash" text NOT NULL,
	"device_token_prefix" text NOT NULL,
	"client_id" text,
	"first_name" text,
	"last_name" text,
	"nickname" text,
	"phone" text,
	"email" text,
	"custom_token" text,
	"disabled_at" timestamp with time zone,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "environment_settings" (
	"environment" text PRIMARY KEY NOT NULL,
	"sign_in_token_ttl_seconds" integer DEFAULT 600 NOT NULL,
	"access_token_ttl_seconds" integer DEFAULT 3600 NOT NULL,
	"refresh_absolute_ttl_seconds" integer DEFAULT 31536000 NOT NULL,
	"refresh_grace_seconds" integer DEFAULT 10 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "ephemeral_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"issued_by_type" text NOT NULL,
	"issued_by_id" text,
	"expires_at" timestamp with time zone NOT NULL,
	"session_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idv_session_steps" (
	"session_id" uuid NOT NULL,
	"step_id" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"image_content_type" text,
	"image" "bytea",
	"submitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idv_session_steps_session_id_step_id_pk" PRIMARY KEY("session_id","step_id")
);
--> statement-breakpoint
CREATE TABLE "idv_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"status" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"external_user_id" text,
	"user_id" uuid,
	"locale" text,
	"short_code" text NOT NULL,
	"issued_by_type" text NOT NULL,
	"issued_by_id" text,
	"reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"submitted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"environment" text NOT NULL,
	"key_hash" text NOT NULL,
	"jwt_ttl_seconds" integer DEFAULT 86400 NOT NULL,
	"refresh_ttl_seconds" integer DEFAULT 7776000 NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"rotated_at" timestamp with time zone,
	"grace_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "revoked_access_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sdk_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"installation_id" text,
	"sign_in_token_id" uuid,
	"migrated_from_key_id" uuid,
	"last_refresh_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoke_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sign_in_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"issued_by_type" text NOT NULL,
	"issued_by_id" text,
	"reason" text,
	"used_at" timestamp with time zone,
	"session_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"private_jwk_encrypted" text NOT NULL,
	"status" text NOT NULL,
	"retire_after" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"region" text NOT NULL,
	"client_user_id" text NOT NULL,
	"email" text,
	"name" text,
	"disabled_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_by_key_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workflows" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"steps" jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "api_key_installations_seen_idx" ON "api_key_installations" USING btree ("api_key_id","last_seen_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "device_refresh_tokens_hash_key" ON "device_refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "device_refresh_tokens_device_idx" ON "device_refresh_tokens" USING btree ("device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_token_hash_key" ON "devices" USING btree ("device_token_hash");--> statement-breakpoint
CREATE INDEX "devices_client_id_idx" ON "devices" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "devices_created_idx" ON "devices" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "ephemeral_tokens_hash_key" ON "ephemeral_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "ephemeral_tokens_session_key" ON "ephemeral_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE UNIQUE INDEX "idv_sessions_short_code_key" ON "idv_sessions" USING btree ("short_code");--> statement-breakpoint
CREATE INDEX "idv_sessions_created_idx" ON "idv_sessions" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idv_sessions_status_expiry_idx" ON "idv_sessions" USING btree ("status","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "refresh_tokens_hash_key" ON "refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "refresh_tokens_session_idx" ON "refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "sdk_sessions_user_idx" ON "sdk_sessions" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sign_in_tokens_hash_key" ON "sign_in_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "sign_in_tokens_user_idx" ON "sign_in_tokens" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "users_client_user_id_key" ON "users" USING btree ("environment","region","client_user_id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "users_created_idx" ON "users" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "users_client_user_id_prefix_idx" ON "users" USING btree (lower(client_user_id) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "users_email_prefix_idx" ON "users" USING btree (lower(email) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "users_name_prefix_idx" ON "users" USING btree (lower(name) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "users_search_trgm_idx" ON "users" USING gin ((lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), '')) gin_trgm_ops);