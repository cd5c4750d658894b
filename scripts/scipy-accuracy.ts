/**
 * Rebuild each SciPy fixture case with the production code path (profiles built event by event in at least
 * 20 partial profiles, merged, then compared) and report the metric deltas against SciPy.
 * `npx tsx scripts/scipy-accuracy.ts` prints the worst delta per metric; test/domain/stats/drift-scipy.test.ts asserts.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareProfiles, type FeatureDrift, PiecewiseDistribution } from "../lambdas/domain/stats/drift";
import { emptyProfile, type Profile } from "../lambdas/domain/stats/profile";
import { mergeProfiles } from "../lambdas/domain/stats/profile-merge";
import { addPrediction } from "../lambdas/domain/stats/profile-update";
import type { Piece } from "../lambdas/domain/stats/sketch";
import { type SampleSpec, samples } from "./scipy-samples";

export interface FixtureSide {
  spec: SampleSpec;
  seed: number;
  n: number;
}

export interface FixtureCase {
  name: string;
  type: "numeric" | "categorical";
  reference: FixtureSide;
  current: FixtureSide;
  bins?: number;
  expected: Record<string, number>;
}

export interface Fixtures {
  scipy: string;
  cases: FixtureCase[];
  kstwo: Array<{ n: number; d: number; sf: number }>;
}

export const PARTIALS = 24;

export function loadFixtures(): Fixtures {
  const here = dirname(fileURLToPath(import.meta.url));
  return JSON.parse(
    readFileSync(join(here, "..", "test", "fixtures", "scipy-drift.json"), "utf8"),
  ) as Fixtures;
}

/** Profile one side: contiguous chunks into PARTIALS profiles, event by event, then a pairwise merge tree. */
export function buildProfile(type: "numeric" | "categorical", side: FixtureSide): Profile {
  const spec = { task: "regression" as const, features: { x: type } };
  const parts: Profile[] = Array.from({ length: PARTIALS }, () => emptyProfile(spec));
  let i = 0;
  for (const v of samples(side.spec, side.seed, side.n)) {
    const part = parts[Math.floor((i * PARTIALS) / side.n)]!;
    addPrediction(part, { features: { x: v }, prediction: 0 });
    i++;
  }
  let level = parts;
  while (level.length > 1) {
    const next: Profile[] = [];
    for (let j = 0; j < level.length; j += 2) {
      const a = level[j]!;
      const b = level[j + 1];
      next.push(b ? mergeProfiles(a, b) : a);
    }
    level = next;
  }
  return level[0]!;
}

export function evaluateCase(c: FixtureCase): FeatureDrift {
  const ref = buildProfile(c.type, c.reference);
  const cur = buildProfile(c.type, c.current);
  return compareProfiles(ref, cur, c.bins === undefined ? {} : { bins: c.bins }).x!;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fixtures = loadFixtures();
  const worst: Record<string, { delta: number; relative: number; name: string }> = {};
  for (const c of fixtures.cases) {
    const actual = evaluateCase(c) as unknown as Record<string, number>;
    const row: string[] = [];
    for (const [metric, expected] of Object.entries(c.expected)) {
      const delta = Math.abs(actual[metric]! - expected);
      const relative = delta / Math.max(Math.abs(expected), 1e-300);
      row.push(`${metric}=${expected.toPrecision(4)}/${actual[metric]!.toPrecision(4)}`);
      const w = worst[metric];
      if (!w || delta > w.delta) worst[metric] = { delta, relative, name: c.name };
    }
    console.log(c.name.padEnd(36), row.join(" "));
  }
  console.log(JSON.stringify(worst, null, 1));
}

/**
 * Sup over x of |F_pieces - F_data| for the right-continuous CDF and its left limits, as a fraction of n,
 * `sorted` ascending (the exact empirical CDF). Between consecutive distinct values the exact CDF is constant
 * and the piecewise-linear one is monotone, so the distinct values (left and right limits) are the only
 * candidates. Shared by the sketch tests, the SciPy suite and the sketch benchmark.
 */
export function supCdfError(pieces: readonly Piece[], sorted: Float64Array): number {
  const cdf = new PiecewiseDistribution(pieces);
  const n = sorted.length;
  let worst = 0;
  let i = 0;
  while (i < n) {
    const v = sorted[i]!;
    let j = i + 1;
    while (j < n && sorted[j] === v) j++;
    worst = Math.max(worst, Math.abs(cdf.below(v) - i), Math.abs(cdf.atOrBelow(v) - j));
    i = j;
  }
  return worst / n;
}
