// GET /api/edge/job: the Edge runtime (deprecated by Next 16 in favour of Node).
// Liveness is written by the isolate's own timers while a lock is held.
import { jobHandler } from "../../../../lib/job";

export const runtime = "edge";
export const dynamic = "force-dynamic";

export const GET = jobHandler("edge");
