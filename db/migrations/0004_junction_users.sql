CREATE TABLE "deployment" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"team_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployment_one_row" CHECK ("deployment"."id" = 1)
);
--> statement-breakpoint
CREATE INDEX "users_list_idx" ON "users" USING btree ("environment","region","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE deleted_at is null;--> statement-breakpoint
-- Hand-written: the deployment's team id is drawn here, at first start, and never changes.
INSERT INTO "deployment" ("id") VALUES (1) ON CONFLICT ("id") DO NOTHING;
