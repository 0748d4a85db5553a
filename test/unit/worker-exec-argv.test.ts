// Which of the main program's Node options the liveness thread gets (issue 16): loaders stay, the options of an
// --eval/--print entry go (a worker crashes on --input-type), and everything is inherited when nothing must go.
import { describe, expect, it } from "vitest";
import { workerExecArgv } from "../../adapters/node/worker-exec-argv";

describe("workerExecArgv", () => {
  it("inherits everything when no entry option must go (Node's default, which tolerates per-process options)", () => {
    expect(workerExecArgv([])).toBeUndefined();
    expect(workerExecArgv(["--require", "/x/tsx/preflight.cjs", "--import", "file:///x/tsx/loader.mjs"])).toBeUndefined();
    expect(workerExecArgv(["--max-old-space-size=256", "--title=app"])).toBeUndefined();
  });

  it("drops --input-type and the --eval/--print code, with values given after = or as the next argument", () => {
    expect(workerExecArgv(["--input-type=module", "-e", "import('x')"])).toEqual([]);
    expect(workerExecArgv(["--import", "tsx", "--input-type", "module", "--eval", "a = 1"])).toEqual(["--import", "tsx"]);
    expect(workerExecArgv(["--eval=1", "--conditions=dev"])).toEqual(["--conditions=dev"]);
    expect(workerExecArgv(["-pe", "1+1", "-r", "/x/hook.cjs"])).toEqual(["-r", "/x/hook.cjs"]);
    expect(workerExecArgv(["-i", "--enable-source-maps"])).toEqual(["--enable-source-maps"]);
  });
});
