// Issue 16, item 4: code written for @clickup/distributed-locker compiles under `strict` with only its import
// changed: the original README's example (an ES module with top-level await) and CommonJS code typed against
// the original's public API. Both see pulselock as an installed package, through its "exports" types.
import ts from "typescript";
import { afterAll, beforeAll, expect, it } from "vitest";
import { installPulselock, projectPath } from "./user-project";

let uninstall: () => void;
beforeAll(() => {
  uninstall = installPulselock("clickup-code");
});
afterAll(() => uninstall?.());

/** The errors `tsc --strict` reports for one file of the fixture project, one line each. */
function strictErrors(file: string, options: ts.CompilerOptions): string[] {
  const program = ts.createProgram([projectPath(`clickup-code/${file}`)], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    types: ["node"],
    // Declaration files are the libraries' own business (and checking them doubles the time); the user's code is checked.
    skipLibCheck: true,
    ...options,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName.split("/").slice(-2).join("/") ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

// The snippet awaits at its top level, so it compiles as an ES module; through a bundler's resolution, since under
// NodeNext ioredis's own types make its default import unconstructable from ESM, whichever lock library is used.
it("the original README's example compiles (ESM)", () => {
  const options = { module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler };
  expect(strictErrors("readme-example.mts", options)).toEqual([]);
});

it("CommonJS code typed against the original's API compiles (Heartbeater parameters, recheckDelay as a function)", () => {
  const options = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  expect(strictErrors("original-api.ts", options)).toEqual([]);
});
