"use client";
import { useState } from "react";
import { Button, type ButtonProps } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";

/**
 * Copies `value` to the clipboard and says so. Falls back to selecting a hidden textarea where the
 * Clipboard API is unavailable (plain http on a LAN address is not a secure context).
 */
export function CopyButton({
  value,
  label = "Copy",
  copiedLabel = "Copied",
  className,
  ...props
}: { value: string; label?: string; copiedLabel?: string } & Omit<ButtonProps, "onClick" | "value">) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(value);
      } else {
        const area = document.createElement("textarea");
        area.value = value;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        const ok = document.execCommand("copy");
        area.remove();
        if (!ok) throw new Error("copy refused");
      }
      setState("copied");
      setTimeout(() => setState("idle"), 2000);
    } catch {
      setState("failed");
    }
  }
  return (
    <Button variant="secondary" size="sm" onClick={copy} className={cn("shrink-0 whitespace-nowrap", className)} {...props}>
      <span aria-live="polite">{state === "copied" ? copiedLabel : state === "failed" ? "Select and copy by hand" : label}</span>
    </Button>
  );
}
