/**
 * The scenarios of the decision matrix (issue 13, "Defaults that hold without tuning"): one binary model
 * with five numeric features (test/support/scenario-matrix.ts), traffic with daily and weekly
 * seasonality, and one change each. `changeAt` is when a good policy should start acting; scenarios
 * without one must stay quiet for their whole length.
 */
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import type { WorldState } from "./analytic-world";
import {
  CHAMPION_BIAS,
  CHAMPION_WEIGHTS,
  FIRST_TRUTH,
  MATRIX_T0,
  type Scenario,
  TRAIN_MEAN,
  TRAIN_SD,
  volumeShape,
} from "./scenario-matrix";

type Truth = WorldState["truth"];

/**
 * The changed concept: the sign of x2's effect reverses and x1 counts for half (a relation that the
 * champion no longer knows; its inputs do not move, so only labels can show it).
 */
const CHANGED_WEIGHTS = CHAMPION_WEIGHTS.map((w, j) => (j === 0 ? w / 2 : j === 1 ? -w : w));
export const CHANGED_TRUTH: Truth = {
  weights: CHANGED_WEIGHTS.map((w, j) => w / TRAIN_SD[j]!),
  // Centred like the first truth: the same logit at the training means.
  bias: CHAMPION_BIAS - CHANGED_WEIGHTS.reduce((sum, w, j) => sum + (w * TRAIN_MEAN[j]!) / TRAIN_SD[j]!, 0),
};

function mix(from: Truth, to: Truth, share: number): Truth {
  const s = Math.min(1, Math.max(0, share));
  return {
    weights: from.weights.map((a, j) => a + s * (to.weights[j]! - a)),
    bias: from.bias + s * (to.bias - from.bias),
  };
}

/** The stationary world: the training distributions, the hourly feature following the hour of day. */
function baseWorld(t: number, volumePerDay: number): WorldState {
  const hour = (t % DAY_MS) / HOUR_MS;
  return {
    features: TRAIN_MEAN.map((mean, j) =>
      j === 3
        ? { mean: Math.cos((2 * Math.PI * (hour - 14)) / 24), sd: 0.5, missing: 0 }
        : { mean, sd: TRAIN_SD[j]!, missing: 0 },
    ),
    volumePerHour: (volumePerDay / 24) * volumeShape(t),
    truth: FIRST_TRUTH,
  };
}

const day = (d: number) => MATRIX_T0 + d * DAY_MS;

export const STATIONARY: Scenario = {
  name: "stationary",
  days: 30,
  shouldRetrain: false,
  shouldAlert: false,
  world: baseWorld,
};

export const ABRUPT_CONCEPT: Scenario = {
  name: "abrupt concept change (day 15)",
  days: 30,
  changeAt: day(15),
  shouldRetrain: true,
  shouldAlert: true,
  world: (t, v) => (t >= day(15) ? { ...baseWorld(t, v), truth: CHANGED_TRUTH } : baseWorld(t, v)),
};

export const GRADUAL_CONCEPT: Scenario = {
  name: "gradual concept change (days 10-30)",
  days: 30,
  changeAt: day(10),
  shouldRetrain: true,
  shouldAlert: true,
  world: (t, v) => ({
    ...baseWorld(t, v),
    truth: mix(FIRST_TRUTH, CHANGED_TRUTH, (t - day(10)) / (20 * DAY_MS)),
  }),
};

export const IGNORED_SHIFT: Scenario = {
  name: "covariate shift on an ignored feature (day 15)",
  days: 30,
  changeAt: day(15),
  shouldRetrain: false,
  shouldAlert: false,
  world: (t, v) => {
    const w = baseWorld(t, v);
    if (t < day(15)) return w;
    // Three standard deviations: obvious drift, on a feature with importance 0.
    return { ...w, features: w.features.map((f, j) => (j === 4 ? { ...f, mean: f.mean + 3 * f.sd } : f)) };
  },
};

/** x1 (the most important feature) arrives null for two hours on day 12, 10:00-12:00. */
export const OUTAGE_FROM = day(12) + 10 * HOUR_MS;
export const OUTAGE_TO = OUTAGE_FROM + 2 * HOUR_MS;
export const FEATURE_OUTAGE: Scenario = {
  name: "2-hour outage of one feature (day 12)",
  days: 30,
  changeAt: OUTAGE_FROM,
  shouldRetrain: false,
  shouldAlert: true,
  // Alerts are expected while the outage is inside the (default, 24-h) evaluation window.
  transientUntil: OUTAGE_TO + parsePolicy({}).windowHours * HOUR_MS,
  reportWithinHours: 3,
  world: (t, v) => {
    const w = baseWorld(t, v);
    if (t < OUTAGE_FROM || t >= OUTAGE_TO) return w;
    return { ...w, features: w.features.map((f, j) => (j === 0 ? { ...f, missing: 1 } : f)) };
  },
};

/** Traffic falls to 10 % on day 10 for good; the concept changes on day 20. */
export const VOLUME_DROP_THEN_CONCEPT: Scenario = {
  name: "permanent volume drop (day 10), concept change (day 20)",
  days: 30,
  changeAt: day(20),
  firstChangeAt: day(10),
  volumeShareAfter: 0.1,
  shouldRetrain: true,
  shouldAlert: true,
  world: (t, v) => {
    const w = baseWorld(t, v);
    const dropped = t >= day(10) ? { ...w, volumePerHour: w.volumePerHour * 0.1 } : w;
    return t >= day(20) ? { ...dropped, truth: CHANGED_TRUTH } : dropped;
  },
};

/**
 * A 60-day slow decline: the concept moves from the first truth to the changed one over days 8-68, a
 * step too small for any window to see but the sum of which a static limit must catch. `changeAt` is
 * undefined: the test computes when the true accuracy passes the policy's limit.
 */
export const SLOW_DECLINE: Scenario = {
  name: "60-day slow decline",
  days: 60,
  firstChangeAt: day(8),
  onsetAt: day(8),
  shouldRetrain: true,
  shouldAlert: true,
  world: (t, v) => ({
    ...baseWorld(t, v),
    truth: mix(FIRST_TRUTH, CHANGED_TRUTH, (t - day(8)) / (60 * DAY_MS)),
  }),
};

export const MATRIX_SCENARIOS: readonly Scenario[] = [
  STATIONARY,
  ABRUPT_CONCEPT,
  GRADUAL_CONCEPT,
  IGNORED_SHIFT,
  FEATURE_OUTAGE,
  VOLUME_DROP_THEN_CONCEPT,
  SLOW_DECLINE,
];
