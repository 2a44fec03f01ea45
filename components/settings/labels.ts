import type { SettingField } from "@/lib/settings/labels";

export { SETTING_LABELS, type SettingField } from "@/lib/settings/labels";

export const SETTING_HINTS: Record<SettingField, string> = {
  signInTokenTtlSeconds: "How long a new sign-in token can be exchanged. 60 seconds to a day.",
  accessTokenTtlSeconds: "How long an access token (JWT) is valid. 60 seconds to a day.",
  refreshAbsoluteTtlSeconds: "After this, the SDK must sign in again however often it refreshed. An hour to five years.",
  refreshGraceSeconds: "How long a just-rotated refresh token is still accepted, as a retry that replaces the token it got. 0 to 300 seconds.",
};
