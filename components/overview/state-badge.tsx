import { Badge } from "@/components/ui/badge";

const TONES: Record<string, "good" | "bad" | "warn" | "info" | "neutral"> = {
  pending: "info",
  redeemed: "good",
  expired: "neutral",
  revoked: "bad",
  created: "info",
  in_progress: "warn",
  submitted: "good",
  cancelled: "bad",
};

/** The state of something issued: a sign-in token's or a handoff's, in words. */
export function IssuedStateBadge({ state }: { state: string }) {
  return (
    <Badge tone={TONES[state] ?? "neutral"} data-state={state}>
      {state === "pending" ? "waiting" : state.replace("_", " ")}
    </Badge>
  );
}
