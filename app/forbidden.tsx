import { Link } from "@/components/ui/link";

export default function Forbidden() {
  return (
    <main className="mx-auto max-w-lg px-6 py-24 text-center">
      <p className="text-sm font-semibold text-red-700">403</p>
      <h1 className="mt-2 text-2xl font-semibold">You don’t have access to this page</h1>
      <p className="mt-2 text-slate-600">Your role does not allow it. If you need it for your work, ask an admin to change your role.</p>
      <Link className="mt-6 inline-block text-indigo-700 underline" href="/">
        Back to the console
      </Link>
    </main>
  );
}
