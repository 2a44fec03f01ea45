/**
 * Captured images are recognised by their first bytes, never by the client's Content-Type or file
 * name: a phone may say anything, and the console later serves these bytes back to staff.
 */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

export type ImageType = "image/jpeg" | "image/png" | "image/webp" | "image/heic";

const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]);

export function sniffImage(bytes: Uint8Array): ImageType | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (b.length >= 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP") return "image/webp";
  if (b.length >= 12 && b.toString("latin1", 4, 8) === "ftyp" && HEIC_BRANDS.has(b.toString("latin1", 8, 12))) return "image/heic";
  return null;
}
