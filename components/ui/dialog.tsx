"use client";
import * as DialogPrimitive from "@radix-ui/react-dialog";
import * as React from "react";
import { Button } from "./button";
import { cn } from "./cn";

export const Dialog = DialogPrimitive.Root;
export const DialogTrigger = DialogPrimitive.Trigger;
export const DialogClose = DialogPrimitive.Close;

/**
 * What a dialog's body says when it holds something shown once (a sign-in token, an API key):
 * while set, Escape and a click outside do not close the dialog at once but ask first. `null` when
 * there is nothing to lose. Set it with `useCloseGuard` from inside the dialog's content.
 */
type CloseGuard = { question: string; detail: string; leaveLabel: string; stayLabel: string } | null;
const GuardContext = React.createContext<((guard: CloseGuard) => void) | null>(null);

/**
 * Ask before the dialog around this component is dismissed while `guard` is set (issue 14, point 4:
 * Escape or a click outside must not throw away a shown-once secret without a word). The dialog's
 * own explicit buttons ("I have stored the key", "Done") still close it at once.
 */
export function useCloseGuard(guard: CloseGuard): void {
  const set = React.useContext(GuardContext);
  const key = guard ? `${guard.question}\n${guard.detail}\n${guard.leaveLabel}\n${guard.stayLabel}` : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: the guard is compared by its text (`key`), not by identity
  React.useEffect(() => {
    set?.(guard);
    return () => set?.(null);
  }, [set, key]);
}

const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The first control a keyboard user could reach inside `root`, if any is on screen. */
function firstTabbable(root: HTMLElement): HTMLElement | null {
  for (const el of root.querySelectorAll<HTMLElement>(TABBABLE)) {
    if (el.getClientRects().length > 0 && !el.closest("[inert],[aria-hidden='true']")) return el;
  }
  return null;
}

interface DialogContentProps {
  title: string;
  description?: React.ReactNode;
  children: React.ReactNode;
  className?: string;
}

export function DialogContent(props: DialogContentProps) {
  return (
    <DialogPrimitive.Portal>
      <DialogPrimitive.Overlay className="fixed inset-0 z-40 bg-slate-900/40 dark:bg-black/60" />
      <OpenContent {...props} />
    </DialogPrimitive.Portal>
  );
}

/**
 * The dialog's box, mounted only while the dialog is open. Radix moves focus in (to the first
 * control, or to an `autoFocus` one) and traps it there; on closing it returns focus to the trigger.
 * Two gaps are closed here: when the trigger is gone by then (the row it revoked left the table), or
 * goes a moment later (the page refreshed with the new state), focus lands on the nearest control
 * that is still there instead of falling back to the page's top; and a shown-once secret asks before
 * it is dismissed (see `useCloseGuard`).
 */
function OpenContent({
  title,
  description,
  children,
  className,
}: {
  title: string;
  description?: React.ReactNode;
  children: React.ReactNode;
  className?: string;
}) {
  // This component renders first in the render that opens the dialog: focus is still on the opener.
  const opener = React.useRef<HTMLElement | null>(typeof document === "undefined" ? null : (document.activeElement as HTMLElement | null));
  const ancestors = React.useRef<HTMLElement[]>([]);
  if (ancestors.current.length === 0 && opener.current && opener.current !== document.body) {
    for (let el = opener.current.parentElement; el && el !== document.body; el = el.parentElement) ancestors.current.push(el);
  }
  const [guard, setGuard] = React.useState<CloseGuard>(null);
  const [asking, setAsking] = React.useState(false);
  const stayRef = React.useRef<HTMLButtonElement>(null);
  const contentRef = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    if (asking) stayRef.current?.focus();
  }, [asking]);
  React.useEffect(() => {
    if (!guard) setAsking(false);
  }, [guard]);

  const ask = (event: Event) => {
    if (!guard) return;
    event.preventDefault();
    setAsking(true);
  };

  const restoreFocus = (event: Event) => {
    event.preventDefault();
    const target = opener.current;
    const fallback = () => {
      for (const el of ancestors.current) {
        if (!el.isConnected) continue;
        const candidate = firstTabbable(el);
        if (candidate) return candidate;
      }
      return document.querySelector<HTMLElement>("main h1") ?? null;
    };
    const focus = (el: HTMLElement | null) => {
      if (!el) return;
      if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: false });
    };
    focus(target?.isConnected && target !== document.body ? target : fallback());
    // The action behind the dialog may re-render the page a moment later (router.refresh) and take
    // the focused control with it: keep focus on the page for a few seconds after closing.
    const kept = document.activeElement;
    const observer = new MutationObserver(() => {
      if (kept instanceof HTMLElement && !kept.isConnected && (document.activeElement === document.body || document.activeElement === null)) {
        focus(fallback());
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
    setTimeout(() => observer.disconnect(), 5000);
  };

  return (
    <GuardContext.Provider value={setGuard}>
      <DialogPrimitive.Content
        ref={contentRef}
        className={cn(
          "fixed left-1/2 top-1/2 z-50 max-h-[calc(100vh-2rem)] w-[min(32rem,calc(100vw-2rem))] -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-lg bg-white p-6 shadow-xl focus:outline-none",
          className,
        )}
        onEscapeKeyDown={ask}
        onInteractOutside={ask}
        onCloseAutoFocus={restoreFocus}
      >
        <DialogPrimitive.Title className="text-lg font-semibold text-slate-900">{title}</DialogPrimitive.Title>
        {description ? (
          <DialogPrimitive.Description className="mt-1 text-sm text-slate-600">{description}</DialogPrimitive.Description>
        ) : (
          <DialogPrimitive.Description className="sr-only">{title}</DialogPrimitive.Description>
        )}
        <div className="mt-4">{children}</div>
        {asking && guard ? (
          <div role="alert" className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900" data-testid="close-guard">
            <p className="font-semibold">{guard.question}</p>
            <p className="mt-1">{guard.detail}</p>
            <div className="mt-3 flex justify-end gap-2">
              <Button
                ref={stayRef}
                variant="secondary"
                size="sm"
                onClick={() => {
                  setAsking(false);
                  const content = contentRef.current;
                  if (content) firstTabbable(content)?.focus();
                }}
              >
                {guard.stayLabel}
              </Button>
              <DialogPrimitive.Close asChild>
                <Button variant="danger" size="sm">
                  {guard.leaveLabel}
                </Button>
              </DialogPrimitive.Close>
            </div>
          </div>
        ) : null}
      </DialogPrimitive.Content>
    </GuardContext.Provider>
  );
}

/**
 * A dialog form's closing row: Cancel (closes, nothing sent) and the submit button, which says what
 * it is doing while the action runs.
 */
export function DialogActions({
  submit,
  pendingLabel,
  pending,
  cancel = "Cancel",
  variant = "primary",
}: {
  submit: string;
  pendingLabel: string;
  pending: boolean;
  cancel?: string;
  variant?: "primary" | "danger";
}) {
  return (
    <div className="flex justify-end gap-2">
      <DialogClose asChild>
        <Button variant="ghost">{cancel}</Button>
      </DialogClose>
      <Button type="submit" variant={variant} disabled={pending}>
        {pending ? pendingLabel : submit}
      </Button>
    </div>
  );
}
