import type * as React from "react";
import { cn } from "./cn";

const field =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm placeholder:text-slate-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 disabled:bg-slate-100 aria-[invalid=true]:border-red-500";

export function Input({ className, ...props }: React.ComponentProps<"input">) {
  return <input className={cn(field, "h-9", className)} {...props} />;
}

export function Textarea({ className, ...props }: React.TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={cn(field, "min-h-20", className)} {...props} />;
}

/**
 * A native <select>: keyboard and screen-reader behaviour for free. `options` lists values that are
 * their own labels (environments, regions) instead of writing the <option>s out.
 */
export function Select({ className, options, children, ...props }: React.SelectHTMLAttributes<HTMLSelectElement> & { options?: readonly string[] }) {
  return (
    <select className={cn(field, "h-9 pr-8", className)} {...props}>
      {options
        ? options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))
        : children}
    </select>
  );
}

export function Label({ className, ...props }: React.LabelHTMLAttributes<HTMLLabelElement>) {
  // biome-ignore lint/a11y/noLabelWithoutControl: the primitive; callers pass htmlFor or wrap the control
  return <label className={cn("mb-1 block text-sm font-medium text-slate-700", className)} {...props} />;
}

export function Field({
  label,
  htmlFor,
  hint,
  error,
  children,
  className,
}: {
  label: string;
  htmlFor: string;
  hint?: string;
  error?: string | null;
  children: React.ReactNode;
  className?: string;
}) {
  return (
    <div className={className}>
      <Label htmlFor={htmlFor}>{label}</Label>
      {children}
      {hint && !error ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      <FieldError error={error} />
    </div>
  );
}

/** A field's (or a fieldset's) error sentence, announced when it appears; nothing without one. */
export function FieldError({ id, error }: { id?: string; error?: string | null }) {
  return error ? (
    <p id={id} className="mt-1 text-xs text-red-700" role="alert">
      {error}
    </p>
  ) : null;
}
