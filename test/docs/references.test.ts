/**
 * Every repository path the docs mention exists, and every anchor they link to is a heading, so that a
 * move or a rename cannot leave a stale reference behind. Read: README.md, test/README.md and docs/*.md.
 * A path is a link target, or a token (backticked or not) that starts with one of the repository's
 * top-level folders or names a file at its root.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const DOCS = ["README.md", "test/README.md", ...readdirSync("docs").map((f) => `docs/${f}`)].filter(
  (f) => f.endsWith(".md") && existsSync(f),
);

/** Top-level folders whose paths the docs cite as `folder/...`. */
const FOLDERS = ["bin", "bench", "config", "contracts", "docs", "lambdas", "lib", "local", "scripts", "test"];
/** Build output and installed packages: not in the repository, named in run instructions. */
const GENERATED = /^(out|cdk\.out|node_modules)(\/|$)/;
/** Names the docs use for the reader's own files, not the repository's. */
const PLACEHOLDERS = new Set(["config/prod.config.json", "my-events.jsonl"]);

/** One reference: where it is written and what it names. */
interface Reference {
  readonly line: number;
  /** Repository path (or the doc itself for a bare `#anchor`), and the anchor if any. */
  readonly path: string;
  readonly anchor?: string;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** `{a,b}` alternatives expanded (one level, as the docs write folder lists). */
function expandBraces(token: string): string[] {
  const m = /^(.*?)\{([^{}]*)\}(.*)$/.exec(token);
  return m ? m[2]!.split(",").flatMap((alt) => expandBraces(`${m[1]}${alt}${m[3]}`)) : [token];
}

/** The references of one markdown file, in the order they are written. */
function referencesIn(file: string, markdown: string): Reference[] {
  const out: Reference[] = [];
  const add = (line: number, target: string, relativeTo: string) => {
    const [rawPath = "", anchor] = target.split("#", 2);
    const path = rawPath === "" ? file : normalize(join(relativeTo, rawPath)).replace(/\/$/, "");
    out.push(anchor === undefined ? { line, path } : { line, path, anchor });
  };
  const rootFile = /^[\w.-]+\.(md|json|ts|ya?ml)$/;
  const folderPath = new RegExp(`^(${FOLDERS.join("|")})(/[\\w.{},*#/-]*)?$`);
  markdown.split("\n").forEach((text, i) => {
    const line = i + 1;
    // Links: [text](target), relative to the doc's folder.
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      add(line, target, target.startsWith("#") ? "" : dirname(file));
    }
    // Paths written as tokens (backticked or in prose), relative to the repository root.
    const prose = text.replace(/\]\([^)\s]+\)/g, "]");
    for (const m of prose.matchAll(/(?<=^|[\s`(|"'])([\w.{},*#/-]+)/g)) {
      if (m[1]!.includes("...") || m[1]!.includes("…")) continue; // an elided path
      const token = m[1]!.replace(/[.,:;]+$/, "").replace(/:\d+(-\d+)?$/, "");
      const isFolderPath = folderPath.test(token) && token.includes("/");
      if (!isFolderPath && !(rootFile.test(token) && !token.startsWith("."))) continue;
      if (PLACEHOLDERS.has(token) || GENERATED.test(token)) continue;
      for (const path of expandBraces(token)) add(line, path, "");
    }
  });
  return out;
}

/** Why a reference does not resolve, or undefined if it does. */
function problem(ref: Reference): string | undefined {
  const wildcard = ref.path.indexOf("*");
  const path = wildcard >= 0 ? dirname(ref.path.slice(0, wildcard + 1)) : ref.path;
  if (!existsSync(path)) {
    // A bare file name may name a file at the root or a file elsewhere (`model-catalog.json` in a Lambda
    // bundle): only a document (`*.md`) is always a reference to the repository.
    const cited = path.includes("/") || path.endsWith(".md") || wildcard >= 0 || ref.anchor !== undefined;
    return cited ? `${path}: no such path` : undefined;
  }
  if (ref.anchor === undefined) return undefined;
  if (!statSync(path).isFile() || !path.endsWith(".md")) return `${path}#${ref.anchor}: not a markdown file`;
  return headingAnchors(readFileSync(path, "utf8")).has(ref.anchor)
    ? undefined
    : `${path}#${ref.anchor}: no such heading`;
}

describe("headingAnchors", () => {
  it("makes GitHub's anchors, numbering repeated headings", () => {
    const md =
      "# Replay your own logs\n## `models[i].training`\n```\n# not a heading\n```\n## Notes\n## Notes";
    expect([...headingAnchors(md)]).toEqual(["replay-your-own-logs", "modelsitraining", "notes", "notes-1"]);
  });
});

describe("referencesIn", () => {
  it("finds link targets, backticked and bare paths, brace lists and anchors; skips URLs and placeholders", () => {
    const md = [
      "See [the policy](policy.md#rules), `lambdas/app/ingest/ingest-batch.ts:12` and test/{domain,app}/.",
      "Run `npx vitest run test/scenarios`, edit `config/prod.config.json`, read https://example.com/lib/x.ts.",
      "[top](#top) `package.json` `out/report.html` `test/domain/...` [configuration.md](configuration.md)",
    ].join("\n");
    expect(referencesIn("docs/x.md", md)).toEqual([
      { line: 1, path: "docs/policy.md", anchor: "rules" },
      { line: 1, path: "lambdas/app/ingest/ingest-batch.ts" },
      { line: 1, path: "test/domain" },
      { line: 1, path: "test/app" },
      { line: 2, path: "test/scenarios" },
      { line: 3, path: "docs/x.md", anchor: "top" },
      { line: 3, path: "docs/configuration.md" },
      { line: 3, path: "package.json" },
    ]);
  });
});

describe.each(DOCS)("references in %s", (file) => {
  const refs = referencesIn(file, readFileSync(file, "utf8"));

  it("name existing paths and headings", () => {
    const broken = refs.flatMap((ref) => {
      const why = problem(ref);
      return why === undefined ? [] : [`${file}:${ref.line}: ${why}`];
    });
    expect(broken).toEqual([]);
  });
});
