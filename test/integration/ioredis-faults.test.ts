import { faultsSuite } from "../conformance/faults";
import { useHarness } from "../conformance/harness";
import { roundTripsSuite } from "../conformance/round-trips";
import { waitingSuite } from "../conformance/waiting";
import { ioredisContext } from "../support/ioredis-context";

const h = useHarness(ioredisContext);
faultsSuite(h);
roundTripsSuite(h);
waitingSuite(h);
