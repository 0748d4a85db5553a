import { apiSuite } from "../conformance/api";
import { useHarness } from "../conformance/harness";
import { clusterContext } from "../support/cluster-context";

apiSuite(useHarness(clusterContext));
