import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How the proxy answers one request that names a liveness key (`pl:proc:`): after `delayMs`, as is or with `status`. */
export type LivenessAnswer = { delayMs: number; status?: number };

/**
 * An HTTP proxy in front of the Upstash server. Each request that names a liveness key gets the answer `answer`
 * gives for it (its index counts those requests from 0); everything else is passed on at once. It lets a test make a
 * Worker's liveness writes slow or failing while its other requests run.
 */
export function livenessProxy(target: string, answer: (index: number) => LivenessAnswer): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  let index = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const { delayMs, status } = body.includes("pl:proc:") ? answer(index++) : { delayMs: 0 };
      const upstream = httpRequest(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (reply) => {
        const parts: Buffer[] = [];
        reply.on("data", (c: Buffer) => parts.push(c));
        reply.on("end", () => {
          const send = () =>
            status === undefined
              ? res.writeHead(reply.statusCode ?? 502, reply.headers).end(Buffer.concat(parts))
              : res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: `proxy: status ${status}` }));
          if (delayMs > 0) setTimeout(send, delayMs);
          else send();
        });
      });
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        server,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}
