// Only for the repository's own `tsc`, which type-checks every example: Deno
// has these built in, and `deno check` never reads this file.
declare namespace Deno {
  const env: { get(name: string): string | undefined };
  let exitCode: number;
}
