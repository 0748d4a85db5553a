import { apiSuite } from "../conformance/api";
import { useHarness } from "../conformance/harness";
import { upstashContext } from "../support/upstash-context";

apiSuite(useHarness(upstashContext));
