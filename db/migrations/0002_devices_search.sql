CREATE INDEX "devices_client_id_prefix_idx" ON "devices" USING btree (lower(client_id) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "devices_email_prefix_idx" ON "devices" USING btree (lower(email) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "devices_first_name_prefix_idx" ON "devices" USING btree (lower(first_name) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "devices_last_name_prefix_idx" ON "devices" USING btree (lower(last_name) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "devices_nickname_prefix_idx" ON "devices" USING btree (lower(nickname) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "devices_token_prefix_idx" ON "devices" USING btree ("device_token_prefix");