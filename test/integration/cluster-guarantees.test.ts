import { guaranteesSuite } from "../conformance/guarantees";
import { useHarness } from "../conformance/harness";
import { clusterContext } from "../support/cluster-context";

guaranteesSuite(useHarness(clusterContext));
