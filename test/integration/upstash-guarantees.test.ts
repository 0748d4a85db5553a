import { guaranteesSuite } from "../conformance/guarantees";
import { useHarness } from "../conformance/harness";
import { upstashContext } from "../support/upstash-context";

guaranteesSuite(useHarness(upstashContext));
