/**
 * Every family of secret tokendesk issues, with the shape a leaked one has. The secrets-at-rest
 * scan (tests/http/zz-secrets-at-rest.test.ts) looks for each shape in every stored column; the
 * unit test tests/unit/secret-prefixes.test.ts fails when the code starts issuing a prefix that is
 * neither here nor in NOT_SECRET_PREFIXES — add the family here, with its shape, when you add one.
 */
export interface SecretFamily {
  what: string;
  /** The literal prefix the code writes, as it appears in the source (`"dt_"`, `` `sit_${` ``). */
  prefixes: string[];
  shape: RegExp;
}

export const SECRET_FAMILIES: SecretFamily[] = [
  { what: "Team API key", prefixes: ["sk_", "pk_"], shape: /\b(sk|pk)_[a-z]{2,8}_[0-9A-Za-z]{49}\b/ },
  { what: "sign-in token", prefixes: ["sit_"], shape: /\bsit_(sandbox|production)_[a-z]{2,8}_[0-9A-Za-z]{49}\b/ },
  { what: "SDK refresh token", prefixes: ["rt_"], shape: /\brt_[0-9A-Za-z]{49}\b/ },
  { what: "InstanceKey", prefixes: ["ik_"], shape: /\bik_[0-9A-Za-z]{43}\b/ },
  { what: "DeviceToken", prefixes: ["dt_"], shape: /\bdt_[0-9A-Za-z]{43}\b/ },
  { what: "device refresh token", prefixes: ["drt_"], shape: /\bdrt_[0-9A-Za-z]{43}\b/ },
  { what: "IDV ephemeral token", prefixes: ["et_"], shape: /\bet_[0-9a-f]{32}\.[0-9a-z]{1,10}\.[A-Za-z0-9_-]{43}/ },
  { what: "webhook signing secret", prefixes: ["whsec_"], shape: /\bwhsec_[A-Za-z0-9+/]{40,}/ },
  // Access tokens (SDK and device): bearer credentials until they expire; only their jti is kept.
  { what: "JWT", prefixes: [], shape: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/ },
];

/** Prefixes the code writes that name no secret, and why. */
export const NOT_SECRET_PREFIXES: Record<string, string> = {
  wf_: "workflow ids: public names an integrator passes in URLs",
  u_: "a SQL column alias (db/rows.ts)",
  i_: "a SQL column-alias prefix for a joined table (db/rows.ts)",
  msg_: "webhook message ids (the webhook-id header): sent to every receiver, a de-duplication key",
};
