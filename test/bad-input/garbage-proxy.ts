import { createServer, request } from "node:http";

/**
 * An HTTP peer in front of the Upstash REST server: it forwards requests
 * until answer(…) is set, then replies 200 with that body itself, like a
 * broken proxy or a captive portal that says "OK" with something that is not
 * the Upstash protocol. upstash-dev's own fault injection only fakes error
 * statuses; this covers a success status with garbage.
 */
export async function startGarbageProxy(target: string) {
  let garbage: string | undefined;
  const server = createServer((req, res) => {
    if (garbage !== undefined && req.method === "POST") {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" }).end(garbage);
      return;
    }
    const url = new URL(req.url ?? "/", target);
    const upstream = request(url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    /** The body to answer every POST with, or undefined to forward again. */
    answer(body: string | undefined) {
      garbage = body;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}
