import { apiSuite } from "../conformance/api";
import { batchingSuite } from "../conformance/batching";
import { useHarness } from "../conformance/harness";
import { ownershipSuite } from "../conformance/ownership";
import { ioredisContext } from "../support/ioredis-context";

const h = useHarness(ioredisContext);
apiSuite(h);
batchingSuite(h);
ownershipSuite(h);
