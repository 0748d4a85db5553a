import { BaseSequencer, type TestSpecification } from "vitest/node";
import { MODEL_CHECK_TEST } from "../model/model-tools.mjs";

/**
 * Files that take minutes, longest first: they start before everything else, so that the two workers share the rest
 * while they run. Left to vitest (which orders by the durations it cached, and a fresh clone has none), the Spin model
 * check (five minutes) could start last and run alone, adding minutes to the suite.
 */
const LONG_FILES = [MODEL_CHECK_TEST, "test/matrix/runtime-matrix.test.ts", "test/build/lint.test.ts", "test/bad-input/upstash-answers.test.ts"];

const rank = (file: TestSpecification): number => {
  const i = LONG_FILES.findIndex((long) => file.moduleId.endsWith(long));
  return i < 0 ? LONG_FILES.length : i;
};

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Stable: within a project group (the chaos run still goes last), the long files move to the front.
    return sorted
      .map((file, i) => ({ file, i }))
      .sort((a, b) => a.file.project.config.sequence.groupOrder - b.file.project.config.sequence.groupOrder || rank(a.file) - rank(b.file) || a.i - b.i)
      .map(({ file }) => file);
  }
}
