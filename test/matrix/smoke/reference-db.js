// A database module that the smoke run loads by its absolute path without the extension, as a
// { moduleName, exportName } reference: every runtime entry finds it the way require() would.
// Its Upstash client makes no request until used, and this one is never used.
import { Redis as Upstash } from "@upstash/redis";
import { RedisDatabase } from "pulselock";

export const db = new RedisDatabase(new Upstash({ url: "http://127.0.0.1:9", token: "unused", enableTelemetry: false }));
