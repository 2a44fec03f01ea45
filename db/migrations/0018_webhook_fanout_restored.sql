CREATE TABLE "webhook_fanout_restored" (
	"txid" bigint NOT NULL,
	"audit_id" uuid NOT NULL,
	CONSTRAINT "webhook_fanout_restored_txid_audit_id_pk" PRIMARY KEY("txid","audit_id")
);
