import { cva, type VariantProps } from "class-variance-authority";
import type * as React from "react";
import { cn } from "./cn";

const badge = cva("inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset", {
  variants: {
    tone: {
      neutral: "bg-slate-50 text-slate-700 ring-slate-300",
      good: "bg-emerald-50 text-emerald-800 ring-emerald-300",
      warn: "bg-amber-50 text-amber-800 ring-amber-300",
      bad: "bg-red-50 text-red-800 ring-red-300",
      info: "bg-indigo-50 text-indigo-800 ring-indigo-300",
    },
  },
  defaultVariants: { tone: "neutral" },
});

export function Badge({ className, tone, ...props }: React.HTMLAttributes<HTMLSpanElement> & VariantProps<typeof badge>) {
  return <span className={cn(badge({ tone }), className)} {...props} />;
}
