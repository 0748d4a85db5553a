import { expect, it } from "vitest";
import { requireOptional } from "../../adapters/node/optional-package";

it("requireOptional loads an installed package and answers undefined, never throws, for one it cannot load", () => {
  expect((requireOptional("@opentelemetry/api") as { trace?: unknown } | undefined)?.trace).toBeDefined();
  expect(requireOptional("@pulselock-test/not-installed")).toBeUndefined();
  expect(requireOptional("")).toBeUndefined();
});
