// The job of the fake-timer checks, the same in every test tool that runs it: vitest (test/integration/fake-timers.test.ts),
// jest (test/migration/fixtures/jest-project/fake-timers.spec.ts) and bun test (./bun-fake-timers.test.mjs, run by the
// runtime matrix, which copies this folder). CommonJS, so that ts-jest's CommonJS tests can require it too.

/**
 * Runs a job under `owner` that calls `fake()` as it starts, then for `rounds` rounds heartbeats, lets `other` try the
 * key (releasing it at once if it got it) and waits 100 ms of real time with `sleep`. The job returns whether its
 * signal aborted. Resolves with { outcome, beats, takenByOther }: outcome is the run's result or the error it rejected
 * with.
 */
async function jobUnderFakeTimers({ owner, other, key, fake, sleep, rounds, SUCCESS }) {
  let takenByOther = 0;
  let beats = 0;
  const outcome = await owner
    .acquireAndRun(key, async (heartbeat) => {
      fake();
      for (let i = 0; i < rounds; i++) {
        await heartbeat();
        beats++;
        const tried = await other.acquire(key);
        if (tried.status === SUCCESS) {
          takenByOther++;
          await other.release(key, tried.lockData);
        }
        await sleep(100);
      }
      return heartbeat.signal.aborted;
    })
    .then(
      (res) => res,
      (error) => error,
    );
  return { outcome, beats, takenByOther };
}

module.exports = { jobUnderFakeTimers };
