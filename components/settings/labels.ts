/** Words for the per-environment lifetimes, shared by the form and the action's error sentences. */
export const SETTING_LABELS = {
  signInTokenTtlSeconds: "Sign-in token lifetime",
  accessTokenTtlSeconds: "Access token lifetime",
  refreshAbsoluteTtlSeconds: "Refresh token absolute lifetime",
  refreshGraceSeconds: "Refresh rotation grace window",
} as const;

export const SETTING_HINTS: Record<keyof typeof SETTING_LABELS, string> = {
  signInTokenTtlSeconds: "How long a new sign-in token can be exchanged. 60 seconds to a day.",
  accessTokenTtlSeconds: "How long an access token (JWT) is valid. 60 seconds to a day.",
  refreshAbsoluteTtlSeconds: "After this, the SDK must sign in again however often it refreshed. An hour to five years.",
  refreshGraceSeconds: "How long a just-rotated refresh token is still accepted, for retries. 0 to 300 seconds.",
};

export type SettingField = keyof typeof SETTING_LABELS;
