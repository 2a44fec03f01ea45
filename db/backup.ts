/**
 * Backups of the embedded database: a consistent dump of the PGlite data directory (PGlite's own
 * `dumpDataDir`, a gzipped tar taken from the open database), behind a one-line header naming the
 * schema version and a fingerprint of TOKENDESK_SECRET. The secret itself is never in the file:
 * without it a restored database cannot verify its audit log, decrypt its signing keys or accept a
 * single refresh token, so restore refuses a secret whose fingerprint differs.
 * PostgreSQL deployments back up with pg_dump / PITR instead (README, "Backups").
 */
import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { appliedSchemaVersion, type DatabaseHandle } from "./client";

const MAGIC = "TOKENDESK-BACKUP v1";

export interface BackupHeader {
  createdAt: string;
  schemaVersion: number;
  /** HMAC of a constant under TOKENDESK_SECRET: tells whether a secret is the right one, reveals nothing. */
  secretFingerprint: string;
  bytes: number;
}

export class BackupError extends Error {
  override name = "BackupError";
}

export function secretFingerprint(secret: string): string {
  return createHmac("sha256", secret).update("tokendesk:backup-fingerprint:v1").digest("base64url").slice(0, 16);
}

/** Writes the backup of an open embedded database to `out` (0600, via a temporary file). */
export async function backupEmbedded(handle: DatabaseHandle, secret: string, out: string): Promise<BackupHeader> {
  if (handle.kind !== "pglite")
    throw new BackupError("`tokendesk backup` is for the embedded database; back up PostgreSQL with pg_dump (see README, Backups).");
  const client = (handle.db as unknown as { $client: PGlite }).$client;
  const schemaVersion = await appliedSchemaVersion(handle.db);
  // dumpDataDir checkpoints and tars the data directory from inside the open database: consistent.
  const tarball = Buffer.from(await (await client.dumpDataDir("gzip")).arrayBuffer());
  const header: BackupHeader = { createdAt: new Date().toISOString(), schemaVersion, secretFingerprint: secretFingerprint(secret), bytes: tarball.length };
  const partial = `${out}.partial`;
  const fd = fs.openSync(partial, "w", 0o600);
  try {
    fs.writeSync(fd, `${MAGIC}\n${JSON.stringify(header)}\n`);
    fs.writeSync(fd, tarball);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(partial, out);
  return header;
}

export function readBackup(file: string): { header: BackupHeader; tarball: Buffer } {
  const buf = fs.readFileSync(file);
  const first = buf.indexOf(10);
  const second = first < 0 ? -1 : buf.indexOf(10, first + 1);
  if (first < 0 || second < 0 || buf.subarray(0, first).toString() !== MAGIC) throw new BackupError(`${file} is not a tokendesk backup.`);
  const header = JSON.parse(buf.subarray(first + 1, second).toString()) as BackupHeader;
  const tarball = buf.subarray(second + 1);
  if (tarball.length !== header.bytes) throw new BackupError(`${file} is cut short: ${tarball.length} of ${header.bytes} bytes.`);
  return { header, tarball };
}

/**
 * Restores a backup into `dataDir`, which must hold no database yet. `secret` is the one the
 * deployment will run with; it must be the secret of the backed-up deployment.
 */
export async function restoreEmbedded(file: string, dataDir: string, secret: string): Promise<BackupHeader> {
  const { header, tarball } = readBackup(file);
  if (secretFingerprint(secret) !== header.secretFingerprint) {
    throw new BackupError(
      "This TOKENDESK_SECRET is not the one the backup was made with: the audit log, signing keys and every token would be unusable. " +
        "Restore with the original secret (TOKENDESK_SECRET or --secret-file).",
    );
  }
  const pgdata = path.join(dataDir, "pgdata");
  if (fs.existsSync(pgdata) && fs.readdirSync(pgdata).length > 0) {
    throw new BackupError(`${pgdata} already holds a database; restore into an empty data directory (TOKENDESK_DATA_DIR).`);
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({
    dataDir: pgdata,
    loadDataDir: new Blob([new Uint8Array(tarball)], { type: "application/x-gzip" }),
    extensions: { pg_trgm },
  });
  await db.close();
  return header;
}
