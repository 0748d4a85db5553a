import { useHarness } from "../conformance/harness";
import { multiKeySuite } from "../conformance/multi-key";
import { upstashContext } from "../support/upstash-context";

multiKeySuite(useHarness(upstashContext));
