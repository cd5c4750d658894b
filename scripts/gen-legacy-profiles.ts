/**
 * Writes test/fixtures/legacy-profiles.json: profiles serialized by the code of an older commit (format
 * version 1 or 2, whose numeric sketches are the floating-point grid), so the codec's reading of old
 * documents is tested against real output of the old code rather than hand-made strings.
 *
 * Run against a checkout of the old code (it imports that checkout's modules), e.g.:
 *   git archive 522c295~1 | tar -x -C /tmp/v1 && ln -s "$PWD/node_modules" /tmp/v1/node_modules
 *   npx tsx scripts/gen-legacy-profiles.ts /tmp/v1 v1 && npx tsx scripts/gen-legacy-profiles.ts /tmp/v2 v2
 * Each run adds (or replaces) one entry of the fixture file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../lambdas/domain/stats/mulberry32";

interface OldModules {
  emptyProfile(spec: unknown): unknown;
  addPrediction(p: unknown, e: unknown): void;
  addOutcome(p: unknown, o: unknown): void;
  serializeProfile(p: unknown): string;
}

/** The events every fixture profile summarizes (deterministic; the test regenerates them to compare). */
export function legacyEvents(
  count: number,
  seed: number,
): Array<{
  features: Record<string, number | string | null>;
  prediction: number;
  score: number;
  label: number;
}> {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  return Array.from({ length: count }, (_, i) => {
    const score = 1 / (1 + Math.exp(-4 * normal()));
    return {
      features: {
        // Few distinct values: the old grid keeps them exactly (level 0).
        small: Math.floor(next() * 6),
        // Continuous and wide: the old grid coarsens.
        wide: Math.exp(2 * normal()),
        // Both signs and zeros.
        signed: i % 17 === 0 ? 0 : Math.round(normal() * 1e4) / 100,
        missingSome: i % 5 === 0 ? null : normal(),
        plan: ["basic", "pro", "team"][Math.floor(next() * 3)]!,
      },
      prediction: score >= 0.5 ? 1 : 0,
      score,
      label: next() < score ? 1 : 0,
    };
  });
}

const SPEC = {
  task: "binary",
  features: {
    small: "numeric",
    wide: "numeric",
    signed: "numeric",
    missingSome: "numeric",
    plan: "categorical",
  },
};

async function main(): Promise<void> {
  const [root, name] = process.argv.slice(2);
  if (!root || !name) throw new Error("usage: gen-legacy-profiles.ts <checkout root> <entry name>");
  const stats = join(resolve(root), "lambdas", "domain", "stats");
  const mods = {
    ...(await import(join(stats, "profile.ts"))),
    ...(await import(join(stats, "profile-update.ts"))),
    ...(await import(join(stats, "profile-codec.ts"))),
  } as OldModules;
  const entry = (count: number, seed: number): string => {
    const profile = mods.emptyProfile(SPEC);
    for (const e of legacyEvents(count, seed)) {
      mods.addPrediction(profile, e);
      mods.addOutcome(profile, { prediction: e.prediction, score: e.score, label: e.label });
    }
    return mods.serializeProfile(profile);
  };
  const here = dirname(fileURLToPath(import.meta.url));
  const path = join(here, "..", "test", "fixtures", "legacy-profiles.json");
  const doc = existsSync(path)
    ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>)
    : { generator: "scripts/gen-legacy-profiles.ts", spec: SPEC, entries: {} };
  (doc.entries as Record<string, unknown>)[name] = {
    small: { events: 200, seed: 7, profile: entry(200, 7) },
    large: { events: 20_000, seed: 8, profile: entry(20_000, 8) },
  };
  writeFileSync(path, `${JSON.stringify(doc, null, 1)}\n`);
  process.stderr.write(`wrote ${name} to ${path}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
