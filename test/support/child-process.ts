import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait-for";

export interface ChildEvent {
  event: string;
  at: number;
  [field: string]: unknown;
}

/** A child Node process that prints one JSON event per line; the test waits on those events. */
export interface Child {
  proc: ChildProcess;
  events: ChildEvent[];
  next(event: string, timeoutMs?: number): Promise<ChildEvent>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export function startChild(fixture: string, args: string[]): Child {
  const proc = spawn(process.execPath, [fixturePath(fixture), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const events: ChildEvent[] = [];
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    try {
      events.push({ ...JSON.parse(line), at: performance.now() });
    } catch {
      // not an event line
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let seen = 0;
  return {
    proc,
    events,
    exited,
    kill: (signal) => void proc.kill(signal),
    async next(event, timeoutMs = 30_000) {
      const found = await waitFor(`child event ${event}`, () => events.slice(seen).find((e) => e.event === event), {
        timeoutMs,
      });
      seen = events.indexOf(found) + 1;
      return found;
    },
  };
}

/** Kills leftover children so nothing outlives the test file. */
export function killAll(children: Child[]): void {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
}
