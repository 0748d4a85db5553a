import { createConnection, createServer, type Socket } from "node:net";

/**
 * A RESP peer in front of a real redis-server: it forwards bytes until
 * loading(true), then answers every command itself with the error a
 * redis-server gives while it loads its dataset at startup (LOADING). A
 * protocol peer, not a mock of pulselock: the client library parses real
 * RESP. Chosen over a restart with a big RDB because how long loading lasts
 * on a shared 2-core machine cannot be bounded, and the test must see the
 * error every time.
 */
export async function startLoadingProxy(targetPort: number) {
  let loading = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: "127.0.0.1" });
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk) => {
      if (!loading) return void upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      let n: number;
      [n, pending] = takeCommands(pending);
      client.write("-LOADING Redis is loading the dataset in memory\r\n".repeat(n));
    });
    upstream.on("data", (chunk) => client.write(chunk));
    const close = () => (client.destroy(), upstream.destroy());
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    loading(on: boolean) {
      loading = on;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Counts the complete RESP commands (arrays of bulk strings) at the start of `buf`; returns the rest. */
function takeCommands(buf: Buffer): [number, Buffer] {
  let count = 0;
  let at = 0;
  for (;;) {
    const end = skipCommand(buf, at);
    if (end === undefined) return [count, buf.subarray(at)];
    count++;
    at = end;
  }
}

function skipCommand(buf: Buffer, at: number): number | undefined {
  const line = (from: number) => {
    const eol = buf.indexOf("\r\n", from);
    return eol < 0 ? undefined : { text: buf.toString("latin1", from, eol), next: eol + 2 };
  };
  const header = line(at);
  if (!header) return undefined;
  if (header.text[0] !== "*") return header.next; // an inline command: one line
  let pos = header.next;
  for (let i = Number(header.text.slice(1)); i > 0; i--) {
    const len = line(pos);
    if (!len) return undefined;
    pos = len.next + Number(len.text.slice(1)) + 2;
    if (pos > buf.length) return undefined;
  }
  return pos;
}
