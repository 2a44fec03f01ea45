/**
 * Words for the per-environment lifetimes: the console form's labels and the titles its error
 * sentences name. Apart from index.ts so that client components import them without the database.
 */
export const SETTING_LABELS = {
  signInTokenTtlSeconds: "Sign-in token lifetime",
  accessTokenTtlSeconds: "Access token lifetime",
  refreshAbsoluteTtlSeconds: "Refresh token absolute lifetime",
  refreshGraceSeconds: "Refresh rotation grace window",
} as const;

export type SettingField = keyof typeof SETTING_LABELS;
