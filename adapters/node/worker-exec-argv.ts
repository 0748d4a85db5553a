/*
 * Starts a worker thread with the main program's Node options, less those a
 * worker refuses. Inheriting them carries the loaders that let the thread load
 * what the main thread loaded (tsx's --require and --import, --loader,
 * --conditions). But --input-type crashes a worker (its entry is a file, not
 * --eval code), and once options are passed explicitly, Node throws on
 * per-process and V8 ones (--title, --max-old-space-size).
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

/** The options of an --eval/--print/REPL entry, each with whether its value is the next argument. */
const ENTRY_OPTIONS = new Map<string, boolean>([
  ["-e", true],
  ["--eval", true],
  ["-p", true],
  ["--print", true],
  ["-pe", true],
  ["-i", false],
  ["--interactive", false],
  ["--input-type", true],
]);

/** `args` without `names` (matched with or without `=value`) and the separate values that follow them. */
function without(args: readonly string[], names: (name: string) => boolean | undefined): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name] = arg.split("=", 1) as [string];
    const takesValue = names(name);
    if (takesValue === undefined) kept.push(arg);
    // An option's separate value is the next argument; execArgv holds no script name, so a value never starts with "-".
    else if (takesValue && !arg.includes("=") && args[i + 1] !== undefined && !args[i + 1]!.startsWith("-")) i++;
  }
  return kept;
}

/** The worker's execArgv: undefined (inherit everything, as Node does by default) unless an --eval entry's options must go. */
export function workerExecArgv(execArgv: readonly string[]): string[] | undefined {
  const kept = without(execArgv, (name) => ENTRY_OPTIONS.get(name));
  return kept.length === execArgv.length ? undefined : kept;
}

/** The flags named by ERR_WORKER_INVALID_EXEC_ARGV ("… invalid execArgv flags: --title=x, --expose-gc"). */
function refusedFlags(error: unknown): Set<string> | undefined {
  if ((error as { code?: unknown } | null)?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return undefined;
  const list = String((error as Error).message)
    .split(": ")
    .slice(1)
    .join(": ");
  return new Set(
    list
      .split(", ")
      .map((flag) => flag.split("=", 1)[0]!.trim())
      .filter(Boolean),
  );
}

/** `new Worker(file, options)` with the main program's exec arguments that a worker accepts. */
export function startWorker(file: URL, options: WorkerOptions, execArgv: readonly string[] = process.execArgv): Worker {
  let args = workerExecArgv(execArgv);
  for (;;) {
    try {
      // Reflect.construct, not `new Worker(…)`: Turbopack treats a Worker whose file is not a literal as a
      // reference to every file in pulselock's dist/ and fails the build on the type declarations there.
      return Reflect.construct(Worker, [file, args === undefined ? options : { ...options, execArgv: args }]) as Worker;
    } catch (error) {
      const refused = args && refusedFlags(error);
      const rest = refused && without(args!, (name) => (refused.has(name) ? true : undefined));
      if (!rest || rest.length === args!.length) throw error;
      args = rest;
    }
  }
}
