"use client";
import { type FormEvent, startTransition, useActionState, useEffect, useRef } from "react";
import type { ActionResult } from "@/server/actions";

type FormAction<T> = (prev: ActionResult<T> | null, form: FormData) => Promise<ActionResult<T>>;

/**
 * `useActionState` for the console's forms, keeping what was typed (issue 14, point 1). React resets
 * a form after its `action` runs, so a refusal used to empty every field and put selects back to
 * their first option; submitting from `onSubmit` inside a transition runs the same action without
 * the reset, and the form is reset only once the action succeeded (to the defaults the refreshed
 * page now gives it). `action` stays on the form for browsers without JavaScript.
 *
 * `fieldError(name)` is that field's own sentence (every field of a zod refusal at once, from the
 * error's `fields`), `formError` the refusal no field shows.
 */
export function useFormAction<T>(action: FormAction<T>, fieldNames: readonly string[] = []) {
  const [state, formAction, pending] = useActionState(action, null);
  const submitted = useRef<HTMLFormElement | null>(null);
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    submitted.current = e.currentTarget;
    const data = new FormData(e.currentTarget, (e.nativeEvent as SubmitEvent).submitter);
    startTransition(() => formAction(data));
  };
  useEffect(() => {
    if (state?.ok) submitted.current?.reset();
  }, [state]);
  const refusal = state && !state.ok ? state : null;
  const fieldError = (name: string): string | null => refusal?.fields?.[name] ?? (refusal?.field === name ? refusal.error : null);
  const formError = refusal && !(refusal.field && fieldNames.includes(refusal.field)) ? refusal.error : null;
  return { state, formAction, pending, onSubmit, fieldError, formError };
}
