import { apiSuite } from "../conformance/api";
import { useHarness } from "../conformance/harness";
import { ioredisContext } from "../support/ioredis-context";

apiSuite(useHarness(ioredisContext));
