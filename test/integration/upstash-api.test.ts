import { apiSuite } from "../conformance/api";
import { batchingSuite } from "../conformance/batching";
import { useHarness } from "../conformance/harness";
import { ownershipSuite } from "../conformance/ownership";
import { upstashContext } from "../support/upstash-context";

const h = useHarness(upstashContext);
apiSuite(h);
batchingSuite(h);
ownershipSuite(h);
