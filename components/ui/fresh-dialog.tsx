"use client";
import { Fragment, type ReactNode, useState } from "react";
import { Dialog, DialogTrigger } from "./dialog";

/**
 * A dialog whose body is mounted afresh at every opening (its form state, and any secret it showed
 * once, are gone when it closes). `onClosed` runs after each closing.
 */
export function FreshDialog({ trigger, children, onClosed }: { trigger: ReactNode; children: ReactNode; onClosed?: () => void }) {
  const [open, setOpen] = useState(false);
  const [opening, setOpening] = useState(0);
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) {
          setOpening((n) => n + 1);
          onClosed?.();
        }
      }}
    >
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <Fragment key={opening}>{children}</Fragment>
    </Dialog>
  );
}
