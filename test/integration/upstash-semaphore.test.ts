import { useHarness } from "../conformance/harness";
import { semaphoreSuite } from "../conformance/semaphore";
import { upstashContext } from "../support/upstash-context";

semaphoreSuite(useHarness(upstashContext));
