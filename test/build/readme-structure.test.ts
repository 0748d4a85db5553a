import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/*
 * The README as a user reads it, on GitHub and on the npm page: install, the
 * first program, each runtime, patterns, then reference; a contents line that
 * names every section and links that land; an entry-point table with every
 * subpath; and what npm needs to resolve relative links and show the license.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as Record<string, unknown> & { exports: Record<string, unknown> };
const prose = readme.replace(/^```[\s\S]*?^```$/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
const headings = [...prose.matchAll(/^(#{2,3}) (.+)$/gm)].map((m) => ({ level: m[1]!.length, text: m[2]!, slug: slug(m[2]!) }));

it("reads in a user's order: install, first program, runtimes, patterns, reference; development last", () => {
  const order = ["Install", "First program", "Use it", "Patterns", "API", "Options", "Errors", "Quick start", "Development"];
  const at = order.map((h) => headings.findIndex((x) => x.level === 2 && x.text === h));
  expect(
    at.every((i) => i >= 0),
    JSON.stringify(order.filter((_, i) => at[i]! < 0)),
  ).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
});

it("every link to a section lands on a heading, and the contents line names every top-level section", () => {
  const anchors = new Set(headings.map((h) => h.slug));
  const links = [...prose.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  const contents = /^Contents: ([\s\S]*?)\n\n/m.exec(prose)?.[1] ?? "";
  const named = new Set([...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!));
  expect(headings.filter((h) => h.level === 2 && !named.has(h.slug)).map((h) => h.text)).toEqual([]);
});

it("the entry-point table lists every subpath of the package's exports", () => {
  const table = prose.slice(prose.indexOf("### Entry points"), prose.indexOf("## Options"));
  const listed = [...table.matchAll(/^\| `(pulselock[^`]*)` \|/gm)].map((m) => `.${m[1]!.slice("pulselock".length)}`);
  const subpaths = Object.keys(pkg.exports).filter((p) => p !== "./package.json");
  expect(listed.sort()).toEqual(subpaths.sort());
});

it("snippets import ioredis by name, as moduleResolution node16 type-checks it", () => {
  expect(readme).not.toMatch(/import Redis from "ioredis"/);
  expect(readme).toMatch(/import \{ Redis \} from "ioredis"/);
});

it("npm can resolve the README's relative links and show the license: repository, homepage, bugs, LICENSE", () => {
  expect(pkg.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\/github\.com\/.+\.git$/) });
  expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/.+#readme$/);
  expect(pkg.bugs).toMatchObject({ url: expect.stringMatching(/^https:\/\/github\.com\/.+\/issues$/) });
  expect(pkg.license).toBe("MIT");
  expect(readFileSync(`${root}LICENSE`, "utf8")).toMatch(/^MIT License\n[\s\S]*THE SOFTWARE IS PROVIDED "AS IS"/);
  expect(pkg.files).toContain("LICENSE");
});
