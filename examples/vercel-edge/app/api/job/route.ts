// Next.js App Router route: GET /api/job?key=…  (Edge runtime).
import { createJobHandler } from "../../../handler";

export const runtime = "edge";

export const GET = createJobHandler({
  url: process.env.UPSTASH_REDIS_REST_URL!,
  token: process.env.UPSTASH_REDIS_REST_TOKEN!,
});
