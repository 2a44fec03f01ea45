"use client";
import { ActionForm, type FormAction } from "@/components/staff/action-form";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

/** Cancel = expire now, with the reason the audit log records. */
export function CancelHandoffForm({ action, sessionId }: { action: FormAction; sessionId: string }) {
  return (
    <ActionForm action={action} className="mt-6 flex flex-wrap items-end gap-2 border-t border-slate-200 pt-4" label="Cancel handoff">
      {(pending) => (
        <>
          <input type="hidden" name="id" value={sessionId} />
          <label className="min-w-64 flex-1 text-sm">
            <span className="mb-1 block font-medium text-slate-700">Reason for cancelling</span>
            <Input name="reason" required maxLength={500} />
          </label>
          <Button type="submit" variant="danger" disabled={pending}>
            Cancel handoff (expire now)
          </Button>
        </>
      )}
    </ActionForm>
  );
}
