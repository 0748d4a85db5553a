import { faultsSuite } from "../conformance/faults";
import { useHarness } from "../conformance/harness";
import { roundTripsSuite } from "../conformance/round-trips";
import { waitingSuite } from "../conformance/waiting";
import { clusterContext } from "../support/cluster-context";

const h = useHarness(clusterContext);
faultsSuite(h);
roundTripsSuite(h);
waitingSuite(h);
