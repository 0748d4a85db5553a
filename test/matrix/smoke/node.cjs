// Node (any version) as CommonJS: `pulselock` resolves through the "node" + "require" conditions.
const lib = require("pulselock");
const Redis = require("ioredis");
const { Redis: Upstash } = require("@upstash/redis");

import("./process-smoke.mjs").then(({ runProcessSmoke }) =>
  runProcessSmoke(lib, {
    row: { runtime: `node ${process.versions.node.split(".")[0]}`, version: process.version, format: "CJS" },
    connect: (prefix) => {
      const client = new Redis(process.env.REDIS_URL);
      return { db: new lib.RedisDatabase(client, { prefix }), close: () => client.quit() };
    },
    upstash: (prefix) =>
      new lib.RedisDatabase(new Upstash({ url: process.env.UPSTASH_REDIS_REST_URL, token: process.env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false }), {
        prefix,
      }),
    holderCommand: [process.execPath, __filename],
  }),
);
