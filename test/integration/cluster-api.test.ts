import { apiSuite } from "../conformance/api";
import { batchingSuite } from "../conformance/batching";
import { useHarness } from "../conformance/harness";
import { ownershipSuite } from "../conformance/ownership";
import { clusterContext } from "../support/cluster-context";

const h = useHarness(clusterContext);
apiSuite(h);
batchingSuite(h);
ownershipSuite(h);
