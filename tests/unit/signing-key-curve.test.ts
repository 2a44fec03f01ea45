import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { es256PrivateKey } from "@/lib/oauth/signing-keys";

/** A private JWK of `namedCurve` ("ed25519": an Ed25519 key), as the signing-key row stores it (decrypted). */
const jwkOf = (namedCurve: string): string => {
  const { privateKey } = namedCurve === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve });
  return JSON.stringify(privateKey.export({ format: "jwk" }));
};

describe("the private key JWTs are signed with", () => {
  it("accepts a P-256 key and signs a 64-byte ES256 signature with it", () => {
    const key = es256PrivateKey(jwkOf("P-256"), "kid-p256");
    const signature = sign("sha256", Buffer.from("header.payload"), { key, dsaEncoding: "ieee-p1363" });
    expect(signature.length).toBe(64);
  });

  it("refuses a key on another curve or of another type, naming the kid", () => {
    expect(() => es256PrivateKey(jwkOf("P-384"), "kid-p384")).toThrow(/kid-p384 is not a P-256/);
    expect(() => es256PrivateKey(jwkOf("secp256k1"), "kid-k1")).toThrow(/kid-k1 is not a P-256/);
    expect(() => es256PrivateKey(jwkOf("ed25519"), "kid-ed")).toThrow(/kid-ed is not a P-256/);
  });
});
