import { useHarness } from "../conformance/harness";
import { semaphoreSuite } from "../conformance/semaphore";
import { ioredisContext } from "../support/ioredis-context";

semaphoreSuite(useHarness(ioredisContext));
