import { faultsSuite } from "../conformance/faults";
import { useHarness } from "../conformance/harness";
import { roundTripsSuite } from "../conformance/round-trips";
import { waitingSuite } from "../conformance/waiting";
import { upstashContext } from "../support/upstash-context";

const h = useHarness(upstashContext);
faultsSuite(h);
roundTripsSuite(h);
waitingSuite(h);
