import { useHarness } from "../conformance/harness";
import { multiKeySuite } from "../conformance/multi-key";
import { ioredisContext } from "../support/ioredis-context";

multiKeySuite(useHarness(ioredisContext));
