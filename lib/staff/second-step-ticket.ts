/**
 * How a password sign-in that needs a second step tells the browser so: next-auth's credentials
 * provider can only fail with a message, so the message is this prefix and the ticket. Shared by
 * the provider (server) and the sign-in form (browser); nothing else here.
 */
export const SECOND_STEP_PREFIX = "second-factor:";

export function ticketFromSignInError(error: string | null | undefined): string | null {
  return error?.startsWith(SECOND_STEP_PREFIX) ? error.slice(SECOND_STEP_PREFIX.length) : null;
}
