ALTER TABLE "sdk_sessions" ADD COLUMN "first_ip" text;--> statement-breakpoint
ALTER TABLE "sdk_sessions" ADD COLUMN "first_user_agent" text;--> statement-breakpoint
ALTER TABLE "sdk_sessions" ADD COLUMN "last_ip" text;--> statement-breakpoint
ALTER TABLE "sdk_sessions" ADD COLUMN "last_user_agent" text;