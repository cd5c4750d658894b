/**
 * Profile benchmark (issue 2): 10,000 events with 50 features (40 numeric, 10 categorical).
 * - parseRatio: median time of JSON.parse + addPrediction over median time of JSON.parse alone, in one process
 *   (target <= 2.0, aim 1.5): the cost of profiling relative to the unavoidable cost of decoding. Reported for
 *   wall time and for process CPU time (the latter is steadier on a shared, overloaded machine).
 * - serialized bytes of that profile, and per numeric feature of a 1,000,000-event profile (aim <= 2 KB).
 * - time to compute all drift metrics for the 50 features (10k vs 10k events, and 1M vs 1M).
 */

import type { FeatureValue } from "../contracts/events";
import type { FeatureKind, ProfileSpec } from "../contracts/model";
import { compareProfiles } from "../lambdas/domain/stats/drift";
import { emptyProfile, type Profile } from "../lambdas/domain/stats/profile";
import { serializeProfile } from "../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../lambdas/domain/stats/profile-merge";
import { addPrediction } from "../lambdas/domain/stats/profile-update";
import { Mulberry32 } from "../scripts/scipy-samples";
import { cpuTimeOf, median, wallTimeOf } from "./timing";

const NUMERIC = 40;
const CATEGORICAL = 10;
const EVENTS = 10_000;
const REPEATS = 15;

const features: Record<string, FeatureKind> = {};
for (let i = 0; i < NUMERIC; i++) features[`num_${i}`] = "numeric";
for (let i = 0; i < CATEGORICAL; i++) features[`cat_${i}`] = "categorical";
const spec: ProfileSpec = { task: "binary", features };

/** Realistic mix: normal, lognormal, integer counts, bounded ratios; a few nulls; categories of 2..40 values. */
function makeRecord(rng: Mulberry32, shift: number, i: number): Record<string, unknown> {
  const f: Record<string, FeatureValue> = {};
  for (let j = 0; j < NUMERIC; j++) {
    if (rng.nextU32() % 50 === 0) {
      f[`num_${j}`] = null;
      continue;
    }
    const z = rng.normal() + shift;
    switch (j % 4) {
      case 0:
        f[`num_${j}`] = 100 + 15 * z;
        break;
      case 1:
        f[`num_${j}`] = Math.exp(1 + 0.8 * z);
        break;
      case 2:
        f[`num_${j}`] = Math.max(0, Math.floor(10 + 4 * z));
        break;
      default:
        f[`num_${j}`] = rng.uniform();
    }
  }
  for (let j = 0; j < CATEGORICAL; j++) {
    const k = 2 + ((j * 37) % 39);
    f[`cat_${j}`] = j === 0 ? rng.nextU32() % 2 === 0 : `c${rng.nextU32() % k}`;
  }
  const score = rng.uniform();
  return {
    schemaVersion: 1,
    type: "prediction",
    modelId: "bench",
    requestId: `req-${i}`,
    timestamp: 1_790_000_000_000 + i,
    features: f,
    prediction: score > 0.5 ? 1 : 0,
    score,
  };
}

function profileLines(lines: string[]): Profile {
  const p = emptyProfile(spec);
  for (const line of lines) addPrediction(p, JSON.parse(line));
  return p;
}

export async function run(): Promise<Record<string, unknown>> {
  const rng = new Mulberry32(42);
  const lines = Array.from({ length: EVENTS }, (_, i) => JSON.stringify(makeRecord(rng, 0, i)));
  const inputBytes = lines.reduce((s, l) => s + l.length, 0);

  let sink = 0;
  const parseOnly: number[] = [];
  const parseAndProfile: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    parseOnly.push(
      wallTimeOf(() => {
        for (const line of lines) sink += (JSON.parse(line) as { timestamp: number }).timestamp & 1;
      }),
    );
    parseAndProfile.push(
      wallTimeOf(() => {
        sink += profileLines(lines).count;
      }),
    );
  }
  const parseOnlyCpu: number[] = [];
  const parseAndProfileCpu: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    parseOnlyCpu.push(
      cpuTimeOf(() => {
        for (const line of lines) sink += (JSON.parse(line) as { timestamp: number }).timestamp & 1;
      }),
    );
    parseAndProfileCpu.push(
      cpuTimeOf(() => {
        sink += profileLines(lines).count;
      }),
    );
  }
  const parseMs = median(parseOnly);
  const parseProfileMs = median(parseAndProfile);

  const ref = profileLines(lines);
  const curRng = new Mulberry32(43);
  const cur = profileLines(
    Array.from({ length: EVENTS }, (_, i) => JSON.stringify(makeRecord(curRng, 0.1, i))),
  );
  const drift10k = median(Array.from({ length: 9 }, () => wallTimeOf(() => void compareProfiles(ref, cur))));

  // 1M-event profiles: 10 distinct numeric and 2 categorical features profiled event by event; the other 38
  // features are copies of those summaries, so sizes and drift timings are those of a full 50-feature profile.
  const big = (seed: number, shift: number): Profile => {
    const small: Record<string, FeatureKind> = {};
    for (let j = 0; j < 10; j++) small[`num_${j}`] = "numeric";
    small.cat_0 = "categorical";
    small.cat_1 = "categorical";
    const p = emptyProfile({ task: "binary", features: small });
    const g = new Mulberry32(seed);
    for (let i = 0; i < 1_000_000; i++) {
      const e = makeRecord(g, shift, i) as { features: Record<string, FeatureValue> };
      addPrediction(p, e as never);
    }
    const full = emptyProfile(spec);
    const copy = mergeProfiles(p, emptyProfile({ task: "binary", features: small }));
    for (const name of Object.keys(full.features)) {
      const [kind, index] = name.split("_") as [string, string];
      const source = kind === "num" ? `num_${Number(index) % 10}` : `cat_${Number(index) % 2}`;
      full.features[name] = copy.features[source]!;
    }
    full.count = p.count;
    return full;
  };
  const big1 = big(44, 0);
  const big2 = big(45, 0.05);
  const drift1m = median(Array.from({ length: 5 }, () => wallTimeOf(() => void compareProfiles(big1, big2))));
  const numericBytes1m = Array.from({ length: 10 }, (_, j) => {
    const one = emptyProfile({ task: "binary", features: { x: "numeric" } });
    const empty = serializeProfile(one).length;
    one.features.x = big1.features[`num_${j}`]!;
    return serializeProfile(one).length - empty;
  });
  const size10k = serializeProfile(ref).length;
  const size1m = serializeProfile(big1).length;
  return {
    events: EVENTS,
    features: { numeric: NUMERIC, categorical: CATEGORICAL },
    inputMB: Number((inputBytes / 1e6).toFixed(2)),
    parseMedianMs: Number(parseMs.toFixed(2)),
    parseAndProfileMedianMs: Number(parseProfileMs.toFixed(2)),
    parseRatio: Number((parseProfileMs / parseMs).toFixed(3)),
    parseCpuMedianMs: Number(median(parseOnlyCpu).toFixed(2)),
    parseAndProfileCpuMedianMs: Number(median(parseAndProfileCpu).toFixed(2)),
    parseRatioCpu: Number((median(parseAndProfileCpu) / median(parseOnlyCpu)).toFixed(3)),
    profileBytes10k: size10k,
    profileBytes1M: size1m,
    numericFeatureBytes1M: {
      median: median(numericBytes1m),
      max: Math.max(...numericBytes1m),
    },
    driftAllFeaturesMedianMs10k: Number(drift10k.toFixed(2)),
    driftAllFeaturesMedianMs1M: Number(drift1m.toFixed(2)),
    sink: sink > 0,
  };
}
