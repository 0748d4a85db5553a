// Spawns real redis-server processes on free loopback ports, each in its own
// temp directory, for tests, the demo and the benchmarks. Never touches 6379.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (asked from the OS, never the default 6379). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => (port === 6379 ? freePort().then(resolve, reject) : resolve(port)));
    });
  });
}

/** Sends one inline command over RESP and resolves with the raw reply text. */
export function rawCommand(port, line, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: "127.0.0.1" });
    let buf = "";
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no reply from 127.0.0.1:${port}`))), timeoutMs);
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.endsWith("\r\n")) {
        clearTimeout(timer);
        sock.end();
        resolve(buf);
      }
    });
    sock.on("error", (e) => (clearTimeout(timer), reject(e)));
    sock.write(`${line}\r\n`);
  });
}

async function waitForPing(port, child, deadlineMs) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    try {
      if ((await rawCommand(port, "PING", 500)).startsWith("+PONG")) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`redis-server on port ${port} did not answer PING within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts a redis-server. Returns { port, url, dir, stop(), kill(signal), restart(), command(line) }.
 * Persistence is off, so restart() is a restart that loses all data.
 */
export async function startRedis({ extraArgs = [], binary = process.env.REDIS_SERVER_BIN || "redis-server" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pulselock-redis-"));
  let port = await freePort();
  let child;
  const launch = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--protected-mode",
      "no",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
      ...extraArgs,
    ];
    child = spawn(binary, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.unref();
    const exited = new Promise((r) => child.once("exit", r));
    child.exited = exited;
    await waitForPing(port, child, 10000);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      port = await freePort(); // someone took the port between asking and binding
    }
  }
  const server = {
    port,
    host: "127.0.0.1",
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child.pid;
    },
    command: (line) => rawCommand(port, line),
    /** Sends a signal (SIGSTOP, SIGCONT, SIGKILL, …) to the server process. */
    signal: (sig) => child.kill(sig),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // keep the event loop alive until the exit is seen
        child.kill("SIGKILL");
        await child.exited;
      }
    },
    /** Kills the server and starts it again on the same port, with no data. */
    async restart() {
      await server.stop();
      await launch();
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
