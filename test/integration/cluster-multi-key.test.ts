import { useHarness } from "../conformance/harness";
import { multiKeySuite } from "../conformance/multi-key";
import { clusterContext } from "../support/cluster-context";

multiKeySuite(useHarness(clusterContext));
