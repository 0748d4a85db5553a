// One BullMQ worker process for the singleton-job comparison: a Worker with
// `concurrency` that runs no-op jobs. Forked by singleton-jobs.mjs; reports
// its completed count over IPC as it goes.
import { Worker } from "bullmq";
import { IOREDIS_OPTIONS } from "../lib/clients.mjs";

const [host, port, queueName, concurrency] = process.argv.slice(2);
let done = 0;
let reported = 0;
const report = () => {
  if (done === reported) return;
  process.send({ type: "progress", done: done - reported });
  reported = done;
};
const worker = new Worker(queueName, async () => {}, {
  connection: { host, port: Number(port), maxRetriesPerRequest: null, ...IOREDIS_OPTIONS },
  concurrency: Number(concurrency),
});
worker.on("completed", () => {
  if (++done - reported >= 250) report();
});
worker.on("error", (e) => console.error("bullmq worker:", e.message));
const flush = setInterval(report, 50);
await worker.waitUntilReady();
let cpu;
process.send({ type: "ready" });
process.on("message", async (m) => {
  if (m === "start") cpu = process.cpuUsage();
  if (m !== "stop") return;
  const { user, system } = process.cpuUsage(cpu);
  process.send({ type: "cpu", cpuUs: user + system });
  clearInterval(flush);
  report();
  await worker.close();
  process.disconnect();
});
