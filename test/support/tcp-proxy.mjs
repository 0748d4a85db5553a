// A TCP proxy between a client and Redis that the tests can turn into a
// partition: "pass" forwards, "blackhole" holds every byte (connections stay
// open and silent, like a dropped network), "delay" forwards after a pause,
// and dropConnections() resets every open connection.
import { createConnection, createServer } from "node:net";

export async function startProxy(targetPort, targetHost = "127.0.0.1") {
  let mode = "pass";
  let delayMs = 0;
  /** Connections accepted so far; with `stallFrom`, those numbered from it on are held as in a blackhole. */
  let accepted = 0;
  let stallFrom = Infinity;
  const pairs = new Set();
  const held = [];

  /** Chunks waiting to go out, per destination, in arrival order: bytes never overtake earlier ones. */
  const queues = new WeakMap();
  const drain = (dst, queue) => {
    while (queue.length > 0 && queue[0].due <= Date.now()) {
      const { chunk } = queue.shift();
      if (dst.writable) dst.write(chunk);
    }
    if (queue.length > 0) setTimeout(() => drain(dst, queue), queue[0].due - Date.now());
  };
  const send = (dst, chunk, pauseMs) => {
    let queue = queues.get(dst);
    if (!queue) queues.set(dst, (queue = []));
    queue.push({ chunk, due: Date.now() + pauseMs });
    if (queue.length === 1) drain(dst, queue);
  };
  const forward = (dst, index) => (chunk) => {
    if (mode === "blackhole" || index >= stallFrom) return held.push([dst, chunk]);
    send(dst, chunk, mode === "delay" ? delayMs : 0);
  };

  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: targetHost });
    const pair = { client, upstream };
    const index = accepted++;
    pairs.add(pair);
    client.on("data", forward(upstream, index));
    upstream.on("data", forward(client, index));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  const { port } = server.address();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** Holds all traffic both ways until pass() (the bytes are dropped when `drop` is true). */
    blackhole() {
      mode = "blackhole";
    },
    delay(ms) {
      mode = "delay";
      delayMs = ms;
    },
    /** How many connections the proxy has accepted so far. */
    get accepted() {
      return accepted;
    },
    /** Holds the traffic of the connections accepted from now on only (a pub/sub socket a NAT dropped, say) until pass(). */
    stallNewConnections() {
      stallFrom = accepted;
    },
    /** Forwards again; held bytes are delivered unless they were dropped. */
    pass({ drop = false } = {}) {
      mode = "pass";
      stallFrom = Infinity;
      for (const [dst, chunk] of held.splice(0)) if (!drop) send(dst, chunk, 0);
    },
    dropConnections() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    async close() {
      this.pass({ drop: true });
      this.dropConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
