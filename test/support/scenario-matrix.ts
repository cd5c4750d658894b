/**
 * The scenario matrix: 30 (or 60) simulated days of one binary model, evaluated every 6 hours (by default) by the real
 * decision engine (`decide`, default policy) on bucket profiles drawn from an analytic world
 * (analytic-world.ts), at a given volume and label delay. The harness plays the evaluator's and the
 * workflow's part around the pure decision: it bootstraps the baseline from the first week of traffic
 * (as app/evaluate/load-baseline.ts does), keeps the decision history and the trigger state, and when a
 * decision retrains it "deploys" 6 hours later a champion fitted to the world of that moment, with a
 * baseline drawn from it (as the workflow's promotion stores one). No AWS, no DynamoDB: the point is
 * the judgement, at any volume.
 *
 * Labels: positives come back after about half the label delay, negatives after the full delay (each
 * +-25 %), so immature buckets are biased toward positives, as with fraud confirmations.
 */
import type { FeatureSpec } from "../../contracts/model";
import { parsePolicy, type TriggerPolicy, type TriggerPolicyInput } from "../../contracts/policy";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import { decide } from "../../lambdas/domain/decision/decide";
import {
  type BaselineInput,
  type Decision,
  type OutcomeBucket,
  toHistoryEntry,
  type WindowBucket,
} from "../../lambdas/domain/decision/decision";
import type { HistoryEntry } from "../../lambdas/domain/decision/stability";
import { mulberry32 } from "../../lambdas/domain/stats/mulberry32";
import type { BinaryPerformance, Profile } from "../../lambdas/domain/stats/profile";
import { mergePerformance, mergeProfiles } from "../../lambdas/domain/stats/profile-merge";
import {
  type Champion,
  type ClassOutcomes,
  Draws,
  drawBucket,
  trueAccuracy,
  type WorldState,
} from "./analytic-world";

/** Simulation start: a Monday, midnight UTC. */
export const MATRIX_T0 = Date.parse("2026-10-05T00:00:00Z");

export const MATRIX_FEATURES: readonly FeatureSpec[] = [
  { name: "x1", kind: "numeric", importance: 3 },
  { name: "x2", kind: "numeric", importance: 2 },
  { name: "x3", kind: "numeric", importance: 1 },
  { name: "hourly", kind: "numeric", importance: 1 },
  { name: "ignored", kind: "numeric", importance: 0 },
];

/** Training statistics and weights of the first champion; the true concept starts equal to it. */
export const TRAIN_MEAN = [10, 50, 0, 0, 100] as const;
export const TRAIN_SD = [2, 10, 1, 1, 15] as const;
export const CHAMPION_WEIGHTS = [6.5, -5, 2.75, 2.25, 0] as const;
export const CHAMPION_BIAS = -0.6;

export const FIRST_CHAMPION: Champion = {
  trainMean: TRAIN_MEAN,
  trainSd: TRAIN_SD,
  weights: CHAMPION_WEIGHTS,
  bias: CHAMPION_BIAS,
};

/** The truth of the first champion's world, over raw inputs: sigmoid(sum a_j x_j + c). */
export const FIRST_TRUTH = {
  weights: CHAMPION_WEIGHTS.map((w, j) => w / TRAIN_SD[j]!),
  bias:
    CHAMPION_BIAS -
    CHAMPION_WEIGHTS.reduce((sum: number, w, j) => sum + (w * TRAIN_MEAN[j]!) / TRAIN_SD[j]!, 0),
} as const;

/** A scenario: the world over time, the change it makes and what a good policy does. */
export interface Scenario {
  readonly name: string;
  readonly days: number;
  /** When the first change that should be acted on (or alerted on) happens; undefined: never. */
  readonly changeAt?: number;
  /** The world at time t for daily volume v. */
  world(t: number, volumePerDay: number): WorldState;
  /** Whether a good policy retrains after the change (else: alerts only, or nothing). */
  readonly shouldRetrain: boolean;
  /** Whether a good policy alerts after the change. */
  readonly shouldAlert: boolean;
  /** When the first change of any kind happens (alerts before it are false); default `changeAt`. */
  readonly firstChangeAt?: number;
  /**
   * Before this time a retrain is wrong, and detection delays count from when the change becomes
   * detectable after it; default `changeAt` (a slow decline has an onset but no single change time).
   */
  readonly onsetAt?: number;
  /** Daily volume after the first change, as a share of the volume before it (a volume drop); default 1. */
  readonly volumeShareAfter?: number;
  /** A transient change: alerts are expected only until this time; later ones are false. */
  readonly transientUntil?: number;
  /** The first alert must come within this many hours of the first change. */
  readonly reportWithinHours?: number;
}

/** Daily (peak mid-afternoon, 0.4x at night) and weekly (weekends 0.6x) volume pattern, mean 1. */
export function volumeShape(t: number): number {
  const hour = (t % DAY_MS) / HOUR_MS;
  const day = Math.floor((t - MATRIX_T0) / DAY_MS) % 7;
  const daily = 1 + 0.6 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
  const weekly = day >= 5 ? 0.6 : 1.16;
  return daily * weekly;
}

export interface RunOptions {
  readonly volumePerDay: number;
  readonly labelDelayHours: number;
  readonly policy?: TriggerPolicyInput;
  readonly seed?: number;
  /** Label horizon of the model (hours). @default 168 */
  readonly labelHorizonHours?: number;
  /** Hours between evaluations (the schedule, `rate(6 hours)` in the setup). @default 6 */
  readonly evaluateEveryHours?: number;
}

export interface RunResult {
  readonly scenario: string;
  readonly volumePerDay: number;
  readonly labelDelayHours: number;
  readonly decisions: readonly Decision[];
  readonly retrains: readonly number[];
  readonly deploys: readonly number[];
  /** True accuracy of the serving champion, sampled daily at noon. */
  readonly accuracy: ReadonlyArray<{ readonly t: number; readonly accuracy: number }>;
  readonly changeAt?: number;
}

/** Fraction of a class's labels arrived `age` ms after the bucket's middle, for a delay d (+-25 %). */
function arrived(ageMs: number, delayMs: number): number {
  if (delayMs === 0) return 1;
  return Math.min(1, Math.max(0, (ageMs - 0.75 * delayMs) / (0.5 * delayMs)));
}

/** `perf` scaled to a fraction of its outcomes (counts floored, sums scaled). */
function scaled(perf: BinaryPerformance, fraction: number): BinaryPerformance {
  if (fraction >= 1) return perf;
  const count = (k: number) => Math.floor(k * fraction);
  const histogram = (m: Map<number, number>) => {
    const out = new Map<number, number>();
    for (const [bin, k] of m) {
      const kept = count(k);
      if (kept > 0) out.set(bin, kept);
    }
    return out;
  };
  const positiveScores = histogram(perf.positiveScores);
  const negativeScores = histogram(perf.negativeScores);
  let n = 0;
  for (const k of positiveScores.values()) n += k;
  for (const k of negativeScores.values()) n += k;
  const share = perf.n > 0 ? n / perf.n : 0;
  return {
    ...perf,
    n,
    tp: Math.round(perf.tp * share),
    fn: Math.round(perf.fn * share),
    fp: Math.round(perf.fp * share),
    tn: Math.round(perf.tn * share),
    scored: n,
    logLossSum: perf.logLossSum * share,
    brierSum: perf.brierSum * share,
    logLossSquaredSum: (perf.logLossSquaredSum ?? 0) * share,
    brierSquaredSum: (perf.brierSquaredSum ?? 0) * share,
    positiveScores,
    negativeScores,
  };
}

interface Bucket {
  readonly bucketStart: number;
  readonly profile: Profile;
  readonly outcomes: ClassOutcomes;
}

/**
 * Outcomes of buckets whose labels have all arrived (they no longer change). One per run: buckets are
 * shared between runs of different label delays (drawShared), their outcomes at a time are not.
 */
type SettledOutcomes = WeakMap<Bucket, OutcomeBucket>;

/** The labelled outcomes of a bucket at time `now`. */
function outcomesAt(
  settledOutcomes: SettledOutcomes,
  bucket: Bucket,
  now: number,
  delayMs: number,
): OutcomeBucket {
  const known = settledOutcomes.get(bucket);
  if (known !== undefined) return known;
  const age = now - (bucket.bucketStart + HOUR_MS / 2);
  const positiveShare = arrived(age, delayMs / 2);
  const negativeShare = arrived(age, delayMs);
  const performance = mergePerformance(
    scaled(bucket.outcomes.positives, positiveShare),
    scaled(bucket.outcomes.negatives, negativeShare),
  );
  const outcome = {
    bucketStart: bucket.bucketStart,
    predictions: bucket.profile.count,
    labelled: performance.n,
    performance,
  };
  if (positiveShare >= 1 && negativeShare >= 1) settledOutcomes.set(bucket, outcome);
  return outcome;
}

/**
 * Merges of a window sliding one bucket at a time, with two stacks (amortized O(1) merges per step):
 * the decision gets the evaluation window already merged, as the stats repository hands it.
 */
class SlidingMerge {
  private front: Profile[] = [];
  private back: Profile[] = [];
  private backMerged: Profile | undefined;
  private readonly frontStarts: number[] = [];
  private readonly backStarts: number[] = [];

  push(bucketStart: number, profile: Profile): void {
    this.back.push(profile);
    this.backStarts.push(bucketStart);
    this.backMerged = this.backMerged === undefined ? profile : mergeProfiles(this.backMerged, profile);
  }

  /** Drops buckets starting before `from`. */
  dropBefore(from: number): void {
    for (;;) {
      if (this.front.length === 0) {
        if (this.back.length === 0) return;
        // Move the back stack to the front, each entry holding the merge of itself and everything newer.
        const merged: Profile[] = [];
        let suffix: Profile | undefined;
        for (let i = this.back.length - 1; i >= 0; i--) {
          suffix = suffix === undefined ? this.back[i]! : mergeProfiles(this.back[i]!, suffix);
          merged.unshift(suffix);
        }
        this.front = merged;
        this.frontStarts.splice(0, this.frontStarts.length, ...this.backStarts);
        this.back = [];
        this.backStarts.length = 0;
        this.backMerged = undefined;
      }
      if (this.frontStarts[0]! >= from) return;
      this.front.shift();
      this.frontStarts.shift();
    }
  }

  merged(): Profile | undefined {
    const head = this.front[0];
    if (head === undefined) return this.backMerged;
    return this.backMerged === undefined ? head : mergeProfiles(head, this.backMerged);
  }
}

/** A champion fitted to the world at `t` (what a retrain on recent data produces). */
function championFor(world: WorldState): Champion {
  const trainMean = world.features.map((f) => f.mean);
  const trainSd = world.features.map((f) => f.sd);
  const weights = world.truth.weights.map((a, j) => a * trainSd[j]!);
  const bias = world.truth.bias + world.truth.weights.reduce((sum, a, j) => sum + a * trainMean[j]!, 0);
  return { trainMean, trainSd, weights, bias };
}

/** 32-bit FNV-1a of a string: the seed of one hour's draws. */
function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Drawn buckets by (seed, hour, world, champion). Each hour's draws are seeded by what they depend on, so a
 * bucket is a function of them: runs that share a world and a champion at some hour (the scenarios before
 * their change, the label delays before their first retrain) share the bucket instead of drawing it again,
 * with identical results. Cleared with {@link clearDrawCache}.
 */
const drawCache = new Map<string, Bucket>();

/** Forgets the shared buckets (between volumes, to bound memory). */
export function clearDrawCache(): void {
  drawCache.clear();
}

function drawShared(seed: number, t: number, world: WorldState, champion: Champion, n?: number): Bucket {
  const key = `${seed}|${t}|${n ?? ""}|${JSON.stringify(world)}|${JSON.stringify(champion)}`;
  const known = drawCache.get(key);
  if (known !== undefined) return known;
  const draws = new Draws(mulberry32(hashSeed(key)));
  const bucket = drawBucket(
    t,
    n ?? draws.poisson(world.volumePerHour),
    world,
    champion,
    MATRIX_FEATURES,
    draws,
  );
  drawCache.set(key, bucket);
  return bucket;
}

/** Runs one scenario at one volume and label delay. */
export function runScenario(scenario: Scenario, options: RunOptions): RunResult {
  const policy: TriggerPolicy = parsePolicy(options.policy ?? {});
  const delayMs = options.labelDelayHours * HOUR_MS;
  const evaluateEvery = options.evaluateEveryHours ?? 6;
  const horizonHours = options.labelHorizonHours ?? 168;
  const seed = options.seed ?? 20261129;
  const settledOutcomes: SettledOutcomes = new WeakMap();
  const end = MATRIX_T0 + scenario.days * DAY_MS;
  let champion = FIRST_CHAMPION;
  const buckets: Bucket[] = [];
  const decisions: Decision[] = [];
  const history: HistoryEntry[] = [];
  const retrains: number[] = [];
  const deploys: number[] = [];
  const accuracy: Array<{ t: number; accuracy: number }> = [];
  let baseline: BaselineInput | undefined;
  let baselineSettled = false;
  let pendingDeploy: number | undefined;
  let lastRetrainAt: number | undefined;
  let lastDeployAt: number | undefined;
  let championTrainedAt: number | undefined = MATRIX_T0;
  const referenceHours = policy.referenceWindowHours;
  const sliding = new SlidingMerge();
  // The settled part of the reference window's outcomes, merged once.
  let referenceSettled: { performance: BinaryPerformance | undefined; through: number } = {
    performance: undefined,
    through: MATRIX_T0,
  };
  const keepHours = horizonHours + policy.maxWindowHours + referenceHours;

  for (let t = MATRIX_T0; t < end; t += HOUR_MS) {
    const world = scenario.world(t + HOUR_MS / 2, options.volumePerDay);
    const drawn = drawShared(seed, t, world, champion);
    buckets.push(drawn);
    sliding.push(t, drawn.profile);
    while (buckets.length > 0 && buckets[0]!.bucketStart < t - keepHours * HOUR_MS) buckets.shift();
    if ((t - MATRIX_T0) % DAY_MS === 12 * HOUR_MS)
      accuracy.push({ t, accuracy: trueAccuracy(world, champion) });
    const now = t + HOUR_MS;
    if ((now - MATRIX_T0) % (evaluateEvery * HOUR_MS) !== 0) continue;

    if (pendingDeploy !== undefined && now >= pendingDeploy) {
      // The workflow promoted a champion trained on the world of the retrain decision, with its baseline.
      const trainedAt = pendingDeploy - 6 * HOUR_MS;
      const trainingWorld = scenario.world(trainedAt, options.volumePerDay);
      champion = championFor(trainingWorld);
      // The training data's last day (20,000 rows over 24 hours, so hourly patterns are in it).
      let sampled: Profile | undefined;
      let performance: BinaryPerformance | undefined;
      for (let h = 24; h >= 1; h--) {
        const at = trainedAt - h * HOUR_MS;
        const sample = drawShared(
          seed,
          at,
          scenario.world(at, options.volumePerDay),
          champion,
          Math.round(20_000 / 24),
        );
        const part = mergePerformance(
          sample.outcomes.positives,
          sample.outcomes.negatives,
        ) as BinaryPerformance;
        sampled = sampled === undefined ? sample.profile : mergeProfiles(sampled, sample.profile);
        performance =
          performance === undefined ? part : (mergePerformance(performance, part) as BinaryPerformance);
      }
      const profile: Profile = { ...sampled!, labelled: performance!.n, performance: performance! };
      baseline = { version: `run-${new Date(trainedAt).toISOString()}`, profile };
      lastDeployAt = pendingDeploy;
      championTrainedAt = trainedAt;
      deploys.push(pendingDeploy);
      pendingDeploy = undefined;
    }

    // The reference-window baseline of the first champion (app/evaluate/load-baseline.ts).
    if (baseline === undefined && now >= MATRIX_T0 + referenceHours * HOUR_MS) {
      const from = MATRIX_T0;
      const to = from + referenceHours * HOUR_MS;
      const reference = buckets.filter((b) => b.bucketStart >= from && b.bucketStart < to);
      const profile = reference.map((b) => b.profile).reduce((a, b) => mergeProfiles(a, b));
      if (profile.count >= policy.signals.drift.minSamples)
        baseline = {
          version: `ref-${new Date(from).toISOString()}`,
          profile,
          hours: referenceHours,
          window: { from, to },
        };
    }
    // A reference-window baseline's labels keep arriving: its performance is that of its buckets now
    // (app/evaluate/load-baseline.ts withCurrentOutcomes); settled after the label horizon.
    let baselineNow = baseline;
    if (baseline?.window !== undefined && !baselineSettled) {
      const { from, to } = baseline.window;
      let performance = referenceSettled.performance;
      for (const bucket of buckets) {
        if (bucket.bucketStart < from || bucket.bucketStart >= to) continue;
        const outcome = outcomesAt(settledOutcomes, bucket, now, delayMs);
        const settled = settledOutcomes.has(bucket);
        if (settled && bucket.bucketStart < referenceSettled.through) continue;
        if (settled && bucket.bucketStart === referenceSettled.through) {
          referenceSettled = {
            performance:
              referenceSettled.performance === undefined
                ? (outcome.performance as BinaryPerformance)
                : (mergePerformance(referenceSettled.performance, outcome.performance) as BinaryPerformance),
            through: bucket.bucketStart + HOUR_MS,
          };
          performance = referenceSettled.performance;
          continue;
        }
        performance =
          performance === undefined
            ? (outcome.performance as BinaryPerformance)
            : (mergePerformance(performance, outcome.performance) as BinaryPerformance);
      }
      if (performance !== undefined)
        baselineNow = { ...baseline, profile: { ...baseline.profile, performance, labelled: performance.n } };
      if (now >= to + horizonHours * HOUR_MS) {
        baseline = baselineNow;
        baselineSettled = true;
      }
    }

    const windowFrom = now - policy.maxWindowHours * HOUR_MS;
    // Window buckets carry predictions only: the performance signal reads `outcomes`.
    const window: WindowBucket[] = buckets
      .filter((b) => b.bucketStart >= windowFrom)
      .map((b) => ({ bucketStart: b.bucketStart, profile: b.profile, received: b.profile.count }));
    const mainFrom = now - policy.windowHours * HOUR_MS;
    sliding.dropBefore(mainFrom);
    const merged = sliding.merged();
    const outcomesFrom = now - (horizonHours + policy.maxWindowHours) * HOUR_MS;
    const outcomes = buckets
      .filter((b) => b.bucketStart >= outcomesFrom)
      .map((b) => outcomesAt(settledOutcomes, b, now, delayMs));
    const runActive = pendingDeploy !== undefined;
    const decision = decide(policy, {
      modelId: scenario.name,
      spec: {
        task: "binary",
        classes: ["0", "1"],
        features: Object.fromEntries(MATRIX_FEATURES.map((f) => [f.name, f.kind])),
      },
      now,
      features: MATRIX_FEATURES,
      window: {
        buckets: window,
        ...(merged !== undefined ? { merged: { from: mainFrom, to: now, profile: merged } } : {}),
      },
      outcomes,
      labelHorizonHours: horizonHours,
      bucketMinutes: 60,
      baseline: baselineNow,
      history,
      state: {
        ...(championTrainedAt !== undefined ? { championTrainedAt } : {}),
        ...(lastRetrainAt !== undefined ? { lastRetrainAt } : {}),
        ...(lastDeployAt !== undefined ? { lastDeployAt } : {}),
        retrainStarts: retrains,
        labelsSinceTraining: 0,
        runActive,
      },
    });
    decisions.push(decision);
    history.push(toHistoryEntry(decision));
    if (decision.action === "retrain") {
      retrains.push(now);
      lastRetrainAt = now;
      pendingDeploy = now + 6 * HOUR_MS;
    }
  }
  return {
    scenario: scenario.name,
    volumePerDay: options.volumePerDay,
    labelDelayHours: options.labelDelayHours,
    decisions,
    retrains,
    deploys,
    accuracy,
    ...(scenario.changeAt !== undefined ? { changeAt: scenario.changeAt } : {}),
  };
}
