// The Node participants: forked worker processes (chaos/worker.mjs), each
// reaching Redis through its own TCP proxies so that a fault can partition it
// alone. A killed worker is started again under a new incarnation name.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { now } from "./history.mjs";
import { startProxyGroup } from "./proxy-group.mjs";

const workerPath = fileURLToPath(new URL("./worker.mjs", import.meta.url));

/**
 * slot: { name, proxy, incarnation, child, worker, open: Map(run → key),
 *         processHashes: Set, busy (a fault is acting on it), idle, exited }
 * `redis`: { ports, cluster }, the redis-servers to reach (through this slot's own proxies).
 */
export async function startNodeSlot({ index, redis, keys, timings, seed, onEvent, log }) {
  const proxy = await startProxyGroup(redis);
  const slot = { name: `w${index}`, kind: "node", proxy, incarnation: 0, busy: false, open: new Map() };
  slot.processHashes = new Set();
  slot.spawn = () => {
    slot.incarnation++;
    const worker = `${slot.name}.${slot.incarnation}`;
    const child = fork(workerPath, [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: {
        ...process.env,
        CHAOS_WORKER: worker,
        ...proxy.env,
        CHAOS_KEYS: JSON.stringify(keys),
        CHAOS_TIMINGS: JSON.stringify(timings),
        CHAOS_SEED: `${seed}/${worker}`,
      },
    });
    Object.assign(slot, { child, worker, idle: false, killing: false, open: new Map() });
    slot.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        const killed = slot.killing && child === slot.child;
        log({ type: "worker-exit", worker, code, signal, killed });
        if (!killed && !slot.finishing) log({ type: "unhandled", worker, error: `exited unexpectedly (code ${code}, signal ${signal})` });
        resolve();
      }),
    );
    child.on("message", (event) => onEvent(slot, { ...event, worker }));
    child.on("error", (error) => log({ type: "unhandled", worker, error: `child process error: ${error.message}` }));
    log({ type: "worker-start", worker, kind: "node", pid: child.pid });
  };
  slot.signal = (sig) => slot.child.kill(sig);
  slot.kill = () => killSlot(slot);
  slot.block = (ms) => slot.child.send({ type: "block", ms });
  /** Asks the worker to try `key` in its next attempt (a channel closing meanwhile is no failure). */
  slot.tryNext = (key) => slot.child.connected && slot.child.send({ type: "try", key }, () => {});
  slot.spawn();
  return slot;
}

/** SIGKILLs the slot's worker; resolves once it is gone, with the keys it held and when it died. */
export async function killSlot(slot) {
  slot.killing = true;
  const held = [...new Set(slot.open.values())];
  const hashes = [...slot.processHashes];
  const killedAt = now();
  slot.child.kill("SIGKILL");
  await slot.exited;
  return { held, hashes, killedAt, worker: slot.worker };
}
