// GET /api/node/job: the Node.js runtime (Next's default and recommended one).
// Liveness is written from a worker thread, so a busy event loop keeps its locks.
import { jobHandler } from "../../../../lib/job";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export const GET = jobHandler("nodejs");
