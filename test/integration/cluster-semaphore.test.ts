import { useHarness } from "../conformance/harness";
import { semaphoreSuite } from "../conformance/semaphore";
import { clusterContext } from "../support/cluster-context";

semaphoreSuite(useHarness(clusterContext));
