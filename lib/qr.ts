/**
 * QR codes, rendered on our server as SVG markup so that no third party ever sees what they carry
 * (sign-in tokens, handoff links). One set of options for every code tokendesk shows: error
 * correction M and a two-module quiet zone scan reliably from a phone held at a laptop's screen.
 */
import QRCode from "qrcode";

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}
