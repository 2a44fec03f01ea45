import { envelopeError } from "@/lib/devices/envelope";

export const dynamic = "force-dynamic";

/** Unknown /v1 paths answer in the family's envelope too, not with an HTML 404 page. */
function notFound(req: Request): Response {
  return envelopeError(404, "path", `There is no ${req.method} ${new URL(req.url).pathname} in this API.`);
}

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
