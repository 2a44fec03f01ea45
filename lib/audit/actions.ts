/**
 * The closed list of audit actions. An event with any other action is refused by `recordAudit`,
 * so that filters, exports and reports can rely on this list.
 */
export const AUDIT_ACTIONS = {
  // staff and the console
  "staff.signed_in": "Staff member signed in",
  "staff.signed_out": "Staff member signed out",
  "staff.sign_in_failed": "Staff sign-in failed",
  "staff.created": "Staff member created",
  "staff.role_changed": "Staff role changed",
  "staff.disabled": "Staff member disabled",
  "staff.enabled": "Staff member enabled",
  "staff.password_reset": "Staff password reset",
  "staff.second_factor_added": "Staff second factor added",
  "staff.second_factor_removed": "Staff second factor removed",
  "staff.second_factor_failed": "Staff second factor failed",
  "staff.recovery_codes_generated": "Staff recovery codes generated",
  "staff.demo_removed": "Demo team removed",
  "audit.exported": "Audit log exported",
  "audit.verified": "Audit log verified",
  "audit.archived": "Audit log range archived and removed",
  "janitor.ran": "Retention janitor ran",
  // API keys, settings, signing keys
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  "settings.changed": "Settings changed",
  "signing_key.rotated": "Signing key rotated",
  // users, sign-in tokens, OAuth sessions
  "user.created": "User created",
  "user.updated": "User updated",
  "user.disabled": "User disabled",
  "user.enabled": "User enabled",
  "user.deleted": "User deleted",
  "sign_in_token.issued": "Sign-in token issued",
  "sign_in_token.redeemed": "Sign-in token redeemed",
  "sign_in_token.revoked": "Sign-in token revoked",
  "sdk_session.started": "SDK session started",
  "sdk_session.revoked": "SDK session revoked",
  "refresh_token.reuse_detected": "Refresh token reuse detected",
  "migration.completed": "Migration from API key completed",
  "migration.rejected": "Migration from API key rejected",
  // IDV handoff
  "workflow.created": "Workflow created",
  "ephemeral_token.minted": "Ephemeral token minted",
  "idv_session.started": "IDV session started",
  "idv_session.submitted": "IDV session submitted",
  "idv_session.cancelled": "IDV session cancelled",
  "idv_session.expired": "IDV session expired",
  // telematics devices
  "instance.created": "Instance created",
  "instance.key_rotated": "InstanceKey rotated",
  "device.registered": "Device registered",
  "device.login": "Device logged in",
  "device.login_failed": "Device login failed",
  "device.token_refreshed": "Device JWT refreshed",
  "device.refresh_reuse_detected": "Device refresh token reuse detected",
  "device.disabled": "Device disabled",
  "device.enabled": "Device enabled",
  "device.tokens_revoked": "Device refresh tokens revoked",
  // webhooks
  "webhook_endpoint.created": "Webhook endpoint created",
  "webhook_endpoint.disabled": "Webhook endpoint disabled",
  "webhook_endpoint.enabled": "Webhook endpoint enabled",
  "webhook_endpoint.auto_disabled": "Webhook endpoint disabled after failing for a day",
  "webhook_endpoint.secret_rotated": "Webhook signing secret rotated",
  "webhook_endpoint.deleted": "Webhook endpoint deleted",
  "webhook_endpoint.test_sent": "Webhook test event sent",
  "webhook_delivery.replayed": "Webhook delivery replayed",
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;
export const AUDIT_ACTION_NAMES = Object.keys(AUDIT_ACTIONS) as AuditAction[];

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === "string" && Object.hasOwn(AUDIT_ACTIONS, value);
}

export const AUDIT_OUTCOMES = ["success", "failure", "denied"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
