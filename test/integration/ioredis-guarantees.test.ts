import { guaranteesSuite } from "../conformance/guarantees";
import { useHarness } from "../conformance/harness";
import { ioredisContext } from "../support/ioredis-context";

guaranteesSuite(useHarness(ioredisContext));
