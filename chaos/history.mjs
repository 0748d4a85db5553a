// The run's history: every event, in the order the orchestrator saw it, kept
// in memory for the checker and appended to a JSONL file as it happens (so a
// crashed run still leaves its history behind).
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export const now = () => performance.timeOrigin + performance.now();

export function openHistory(file) {
  mkdirSync(dirname(file), { recursive: true });
  const stream = createWriteStream(file);
  const events = [];
  return {
    file,
    events,
    log(event) {
      const e = { t: now(), ...event };
      events.push(e);
      stream.write(`${JSON.stringify(e)}\n`);
      return e;
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
