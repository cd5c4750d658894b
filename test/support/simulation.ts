/**
 * Scenario simulation: a synthetic binary-classification world streamed into hourly bucket profiles with
 * the real STATS code, evaluated by the real decision engine on a simulated clock, with the effects
 * the evaluator and workflow would have on the model state (retrain start, deploy, reset). No AWS, no
 * DynamoDB: the point is the judgement, fast enough to simulate a month of traffic in seconds.
 *
 * The world: features x1, x2 (important), x3 (minor), season (follows the hour of day), noise (the
 * model ignores it, importance 0) and plan (categorical). The true P(y = 1 | x) is the logistic
 * function the model uses, so scores are calibrated; covariate shifts change accuracy only through
 * where the inputs fall relative to the decision boundary.
 */

import type { FeatureSpec, ProfileSpec } from "../../contracts/model";
import { parsePolicy, type TriggerPolicy, type TriggerPolicyInput } from "../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { decide } from "../../lambdas/domain/decision/decide";
import {
  type BaselineInput,
  type Decision,
  type DecisionInputs,
  outcomesOf,
  toHistoryEntry,
  type WindowBucket,
} from "../../lambdas/domain/decision/decision";
import { advanceLedger, EMPTY_LEDGER, type LabelLedger } from "../../lambdas/domain/decision/label-ledger";
import type { HistoryEntry } from "../../lambdas/domain/decision/stability";
import { emptyProfile, type Profile } from "../../lambdas/domain/stats/profile";
import { mergeProfileList, mergeProfiles } from "../../lambdas/domain/stats/profile-merge";
import { addOutcome, addPrediction } from "../../lambdas/domain/stats/profile-update";
import type { StatsRepository, WindowStats } from "../../lambdas/ports/stats-repository";
import { mulberry32, SeededRandom } from "../../local/prng";

/** Simulation start: a Monday, midnight UTC. */
export const T0 = Date.parse("2026-10-05T00:00:00Z");

export const FEATURES: readonly FeatureSpec[] = [
  { name: "x1", kind: "numeric", importance: 3 },
  { name: "x2", kind: "numeric", importance: 2 },
  { name: "x3", kind: "numeric", importance: 1 },
  { name: "season", kind: "numeric", importance: 1 },
  { name: "noise", kind: "numeric", importance: 0 },
  { name: "plan", kind: "categorical", importance: 1 },
];

export const SPEC: ProfileSpec = {
  task: "binary",
  classes: ["0", "1"],
  features: Object.fromEntries(FEATURES.map((f) => [f.name, f.kind])),
};

/**
 * The simulation's draws: SeededRandom (local/prng.ts) over the shared mulberry32 stream, except that
 * Poisson counts always use the normal approximation (the scenarios' hourly volumes were tuned with it).
 */
export class Rng extends SeededRandom {
  constructor(seed: number) {
    super(mulberry32(seed));
  }
  override poisson(mean: number): number {
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
  }
}

/** The state of the world at some time: how inputs are distributed and what is broken. */
export interface World {
  /** Scale of x1 and x2 (1 = as in training; small values crowd inputs at the decision boundary). */
  readonly spread: number;
  /** Mean shift of the ignored `noise` feature. */
  readonly noiseShift: number;
  /** Features emitted as null (a broken upstream join). */
  readonly nullFeatures: readonly string[];
  /** Multiplier of the event rate. */
  readonly volume: number;
}

export const NORMAL_WORLD: World = { spread: 1, noiseShift: 0, nullFeatures: [], volume: 1 };

const PLANS = ["basic", "pro", "team", "enterprise"] as const;
const PLAN_CUM = [0.5, 0.8, 0.95, 1];

/** Model logit; a missing feature is imputed with 0, as a serving stack would. */
function logit(x1: number | null, x2: number | null, x3: number | null, plan: string): number {
  return 3 * (x1 ?? 0) + 2 * (x2 ?? 0) - 0.5 * (x3 ?? 0) + (plan === "enterprise" ? 0.5 : 0);
}

export interface GeneratedEvent {
  readonly features: Record<string, number | string | null>;
  readonly prediction: number;
  readonly score: number;
  readonly label: number;
}

/** One prediction event at hour-of-day `hod` in `world`. */
export function sampleEvent(rng: Rng, hod: number, world: World): GeneratedEvent {
  const x1 = world.spread * rng.normal();
  const x2 = world.spread * rng.normal();
  const x3 = rng.normal();
  const season = Math.sin((2 * Math.PI * hod) / 24) + 0.3 * rng.normal();
  const noise = world.noiseShift + rng.normal();
  const u = rng.next();
  const plan = PLANS[PLAN_CUM.findIndex((c) => u < c)] ?? "basic";
  const features: Record<string, number | string | null> = { x1, x2, x3, season, noise, plan };
  for (const f of world.nullFeatures) features[f] = null;
  // Ground truth uses the real inputs; the model sees what was emitted.
  const trueP = 1 / (1 + Math.exp(-logit(x1, x2, x3, plan)));
  const score =
    1 /
    (1 +
      Math.exp(
        -logit(
          features.x1 as number | null,
          features.x2 as number | null,
          features.x3 as number | null,
          plan,
        ),
      ));
  return { features, prediction: score >= 0.5 ? 1 : 0, score, label: rng.next() < trueP ? 1 : 0 };
}

/** A profile of `n` events drawn from `world`, spread evenly over the hours of a day (a training-data baseline). */
export function baselineProfile(rng: Rng, n: number, world: World = NORMAL_WORLD): Profile {
  const p = emptyProfile(SPEC);
  for (let i = 0; i < n; i++) {
    const e = sampleEvent(rng, i % 24, world);
    addPrediction(p, e);
    addOutcome(p, e);
  }
  return p;
}

interface PendingLabel {
  readonly arrival: number;
  readonly bucketStart: number;
  readonly prediction: number;
  readonly score: number;
  readonly label: number;
}

export interface SimulationOptions {
  readonly policy: TriggerPolicyInput;
  readonly seed?: number;
  /** Mean prediction events per hour (before the daily cycle and world volume). */
  readonly eventsPerHour?: number;
  /** Amplitude of the daily traffic cycle (0.5: night at half, afternoon at 1.5x the mean). */
  readonly dailyAmplitude?: number;
  /** Share of predictions that eventually get a label, and how late. */
  readonly labelShare?: number;
  readonly labelDelayHours?: number;
  /** Hours from a retrain start to the deploy that resets the trigger state. */
  readonly trainingHours?: number;
  /** Training-data baseline size. */
  readonly baselineEvents?: number;
  /** World as a function of simulated time. */
  readonly world?: (t: number) => World;
  /** Champion training time at the start. */
  readonly championTrainedAt?: number;
}

/**
 * A simulated deployment: generates hourly buckets, delivers labels late, evaluates on a schedule and
 * applies the consequences of each decision the way the evaluator and the workflow do.
 */
export class Simulation {
  readonly policy: TriggerPolicy;
  readonly decisions: Decision[] = [];
  readonly buckets = new Map<number, WindowBucket & { profile: Profile }>();
  readonly retrains: number[] = [];
  readonly deploys: number[] = [];
  events = 0;
  private readonly rng: Rng;
  private pending: PendingLabel[] = [];
  private history: HistoryEntry[] = [];
  private baseline: BaselineInput;
  private ledger: LabelLedger = EMPTY_LEDGER;
  private championTrainedAt: number;
  private lastRetrainAt: number | undefined;
  private lastDeployAt: number | undefined;
  private runFinishesAt: number | undefined;
  private generatedUntil = T0;
  private readonly opts: Required<Omit<SimulationOptions, "policy" | "seed">>;

  constructor(options: SimulationOptions) {
    this.policy = parsePolicy(options.policy);
    this.rng = new Rng(options.seed ?? 42);
    this.opts = {
      eventsPerHour: options.eventsPerHour ?? 1500,
      dailyAmplitude: options.dailyAmplitude ?? 0.5,
      labelShare: options.labelShare ?? 0.5,
      labelDelayHours: options.labelDelayHours ?? 0,
      trainingHours: options.trainingHours ?? 2,
      baselineEvents: options.baselineEvents ?? 30_000,
      world: options.world ?? (() => NORMAL_WORLD),
      championTrainedAt: options.championTrainedAt ?? T0 - DAY,
    };
    this.championTrainedAt = this.opts.championTrainedAt;
    this.baseline = { version: "v0", profile: baselineProfile(this.rng, this.opts.baselineEvents) };
  }

  /** Generates traffic for every whole hour up to `until`. */
  generateUntil(until: number): void {
    const { eventsPerHour, dailyAmplitude, labelShare, labelDelayHours } = this.opts;
    for (let start = this.generatedUntil; start + HOUR <= until; start += HOUR) {
      const hod = new Date(start).getUTCHours();
      const world = this.opts.world(start);
      const rate =
        eventsPerHour * world.volume * (1 + dailyAmplitude * Math.sin((2 * Math.PI * (hod - 6)) / 24));
      const n = this.rng.poisson(rate);
      const profile = emptyProfile(SPEC);
      for (let i = 0; i < n; i++) {
        const e = sampleEvent(this.rng, hod, world);
        addPrediction(profile, e);
        if (this.rng.next() >= labelShare) continue;
        if (labelDelayHours === 0) addOutcome(profile, e);
        else
          this.pending.push({
            arrival: start + labelDelayHours * HOUR + this.rng.next() * HOUR,
            bucketStart: start,
            prediction: e.prediction,
            score: e.score,
            label: e.label,
          });
      }
      this.events += n;
      this.buckets.set(start, { bucketStart: start, profile, received: n, quarantined: {} });
      this.generatedUntil = start + HOUR;
    }
  }

  private deliverLabels(now: number): void {
    const keep: PendingLabel[] = [];
    for (const l of this.pending) {
      const bucket = this.buckets.get(l.bucketStart);
      if (l.arrival <= now && bucket) addOutcome(bucket.profile, l);
      else keep.push(l);
    }
    this.pending = keep;
  }

  /** Runs one evaluation at `now` (after generating traffic and delivering labels up to it). */
  evaluateAt(now: number): Decision {
    this.generateUntil(now);
    this.deliverLabels(now);
    if (this.runFinishesAt !== undefined && now >= this.runFinishesAt) this.completeRun(this.runFinishesAt);
    const longest = Math.max(this.policy.windowHours, this.policy.signals.performance.windowHours ?? 0);
    const from = now - longest * HOUR;
    const buckets = [...this.buckets.values()].filter((b) => b.bucketStart >= from && b.bucketStart < now);
    const mainFrom = now - this.policy.windowHours * HOUR;
    const counted = advanceLedger(
      this.ledger,
      buckets
        .filter((b) => b.bucketStart >= mainFrom)
        .map((b) => ({ bucketStart: b.bucketStart, labelled: b.profile.labelled })),
      mainFrom,
      this.championTrainedAt,
    );
    this.ledger = counted.ledger;
    const inputs: DecisionInputs = {
      modelId: "churn",
      spec: SPEC,
      now,
      features: FEATURES,
      window: { buckets },
      labelHorizonHours: 168,
      bucketMinutes: 60,
      baseline: this.baseline,
      history: this.history,
      state: {
        championTrainedAt: this.championTrainedAt,
        lastRetrainAt: this.lastRetrainAt,
        lastDeployAt: this.lastDeployAt,
        retrainStarts: this.retrains,
        labelsSinceTraining: counted.labelsSinceTraining,
        runActive: this.runFinishesAt !== undefined,
      },
    };
    const decision = decide(this.policy, inputs);
    this.decisions.push(decision);
    this.history.push(toHistoryEntry(decision));
    if (decision.action === "retrain") {
      this.retrains.push(now);
      this.lastRetrainAt = now;
      this.runFinishesAt = now + this.opts.trainingHours * HOUR;
    }
    return decision;
  }

  /** What the workflow does after a successful deploy: new champion and baseline, counters cleared, cooldown. */
  private completeRun(at: number): void {
    this.deploys.push(at);
    this.championTrainedAt = at - HOUR;
    this.lastDeployAt = at;
    this.runFinishesAt = undefined;
    this.ledger = EMPTY_LEDGER;
    // The new model was trained on recent traffic: its training data becomes the baseline.
    const recent = [...this.buckets.values()].filter((b) => b.bucketStart >= at - DAY && b.bucketStart < at);
    let profile = emptyProfile(SPEC);
    for (const b of recent) profile = mergeProfiles(profile, b.profile);
    this.baseline = { version: `v${this.deploys.length}`, profile };
  }

  /** Evaluates every `everyHours` from `from` (inclusive) to `to` (exclusive). */
  run(from: number, to: number, everyHours = 1): Decision[] {
    const out: Decision[] = [];
    for (let t = from; t < to; t += everyHours * HOUR) out.push(this.evaluateAt(t));
    return out;
  }
}

/** Compact description of decisions for assertion messages. */
export function describeDecisions(ds: readonly Decision[]): string {
  return ds
    .filter((d) => d.action !== "none")
    .map(
      (d) =>
        `${new Date(d.evaluatedAt).toISOString()} ${d.action}: ${d.summary.split("\n").slice(0, 6).join(" | ")}`,
    )
    .join("\n");
}

/** StatsRepository over the simulation's in-memory hourly buckets. */
export function simulationStats(sim: Simulation): StatsRepository {
  return {
    async readOutcomes(_modelId, fromMs, toMs) {
      return outcomesOf(
        [...sim.buckets.values()]
          .filter((b) => b.bucketStart >= fromMs && b.bucketStart < toMs)
          .sort((a, b) => a.bucketStart - b.bucketStart),
      );
    },
    async firstBucketStart(_modelId, fromMs, toMs) {
      const starts = [...sim.buckets.values()]
        .map((b) => b.bucketStart)
        .filter((t) => t >= fromMs && t < toMs);
      return starts.length === 0 ? undefined : Math.min(...starts);
    },
    async readWindow(modelId, fromMs, toMs): Promise<WindowStats> {
      const buckets = [...sim.buckets.values()]
        .filter((b) => b.bucketStart >= fromMs && b.bucketStart < toMs)
        .sort((a, b) => a.bucketStart - b.bucketStart)
        .map((b) => ({
          bucketStart: b.bucketStart,
          profile: b.profile,
          received: b.received ?? 0,
          quarantined: {},
          shards: 1,
        }));
      const profile = buckets.length === 0 ? undefined : mergeProfileList(buckets.map((b) => b.profile));
      return { modelId, fromMs, toMs, profile, received: 0, quarantined: {}, buckets };
    },
  };
}
