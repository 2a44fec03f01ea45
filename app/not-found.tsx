import { Link } from "@/components/ui/link";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-lg px-6 py-24 text-center">
      <p className="text-sm font-semibold text-indigo-700">404</p>
      <h1 className="mt-2 text-2xl font-semibold">This page does not exist</h1>
      <p className="mt-2 text-slate-600">The link may be old or mistyped.</p>
      <Link className="mt-6 inline-block text-indigo-700 underline" href="/">
        Back to the console
      </Link>
    </main>
  );
}
