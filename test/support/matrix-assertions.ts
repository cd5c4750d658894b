/**
 * What the decision matrix asserts of every run (issue 13): at most one false alert per 30 days of hourly
 * evaluation, no retrain before a change, detection within a stated bound, and no suppression deadlock.
 * `matrixRow` measures a run and lists the assertions it breaks (`problems`), so the test and the table
 * script (scripts/decision-matrix.ts) use one definition.
 */
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import type { Decision } from "../../lambdas/domain/decision/decision";
import { trueAccuracy } from "./analytic-world";
import {
  FEATURE_OUTAGE,
  GRADUAL_CONCEPT,
  OUTAGE_TO,
  SLOW_DECLINE,
  VOLUME_DROP_THEN_CONCEPT,
} from "./matrix-scenarios";
import { FIRST_CHAMPION, MATRIX_T0, type RunResult, type Scenario } from "./scenario-matrix";

export const MATRIX_VOLUMES = [1_000, 50_000, 1_000_000];
export const MATRIX_DELAYS = [0, 6, 72];

const DEFAULTS = parsePolicy({});

/**
 * Detection-delay bound after a change that only labels can show, with the default policy (hours):
 * - 1.25 x the label delay, until the labels of the change's first buckets are complete (labels arrive
 *   within +-25 % of the delay in the harness) and the window is mature;
 * - the time the window needs to hold enough changed labels for the one-sided test at alpha 0.001: the
 *   24-h window at 50k a day and more; at about 1k a day a window widened toward its 168-h limit;
 * - persistence (m = 2 of n = 3 hourly evaluations) and one evaluation of slack.
 */
export function detectionBound(volumePerDay: number, labelDelayHours: number): number {
  const window = volumePerDay >= 10_000 ? DEFAULTS.windowHours : DEFAULTS.maxWindowHours / 2;
  const persistence = DEFAULTS.stability.persistence.n;
  return (1.25 * labelDelayHours + window + persistence + 1) * HOUR_MS;
}

export interface MatrixRow {
  readonly falseAlerts: number;
  readonly retrains: number;
  readonly firstAlertDelay?: number;
  readonly firstRetrainDelay?: number;
  readonly bound?: number;
  /** The assertions the run breaks, in words (empty: it holds). */
  readonly problems: readonly string[];
}

/** When the first change of a scenario happens (alerts before it are false). */
function firstChange(scenario: Scenario): number | undefined {
  if (scenario === VOLUME_DROP_THEN_CONCEPT) return MATRIX_T0 + 10 * DAY_MS;
  return scenario.changeAt;
}

/**
 * When a gradual change becomes one to act on: the first champion's true accuracy has fallen by the
 * policy's limit (`maxRelativeDrop`). Detection delays of gradual scenarios count from here; a retrain
 * between the onset (`changeAt`) and here is early but not wrong.
 */
function limitCrossed(scenario: Scenario, volumePerDay: number): number {
  const start = trueAccuracy(scenario.world(MATRIX_T0, volumePerDay), FIRST_CHAMPION);
  const limit = start * (1 - DEFAULTS.signals.performance.maxRelativeDrop);
  for (let t = MATRIX_T0; t < MATRIX_T0 + scenario.days * DAY_MS; t += HOUR_MS) {
    if (trueAccuracy(scenario.world(t, volumePerDay), FIRST_CHAMPION) < limit) return t;
  }
  return Number.POSITIVE_INFINITY;
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
const alerted = (d: Decision) => d.action !== "none";

export function matrixRow(scenario: Scenario, result: RunResult): MatrixRow {
  const problems: string[] = [];
  const ds = result.decisions;
  const gradual = scenario === SLOW_DECLINE || scenario === GRADUAL_CONCEPT;
  // Retrains before the onset are wrong; detection delays count from when the change is worth acting on.
  const onset = scenario === SLOW_DECLINE ? MATRIX_T0 + 8 * DAY_MS : scenario.changeAt;
  const changeAt = gradual ? limitCrossed(scenario, result.volumePerDay) : scenario.changeAt;
  const first = firstChange(scenario);
  // Alerts caused by the change: the outage's while it is in the evaluation window, any after a change
  // that should alert.
  const expected = (d: Decision): boolean => {
    if (scenario === FEATURE_OUTAGE)
      return d.evaluatedAt > first! && d.evaluatedAt <= OUTAGE_TO + DEFAULTS.windowHours * HOUR_MS;
    return first !== undefined && scenario.shouldAlert && d.evaluatedAt > first;
  };
  const falseAlerts = ds.filter((d) => alerted(d) && !expected(d));
  const allowed = Math.max(1, Math.floor(scenario.days / 30));
  if (falseAlerts.length > allowed)
    problems.push(
      `${falseAlerts.length} false alerts (at most ${allowed}): ${falseAlerts
        .slice(0, 3)
        .map(
          (d) =>
            `${iso(d.evaluatedAt)} ${d.signals
              .filter((s) => s.breached)
              .map((s) => s.signal)
              .join("+")}`,
        )
        .join(", ")}`,
    );
  const retrainTimes = result.retrains;
  const early = retrainTimes.filter((t) => onset === undefined || t <= onset);
  if (early.length > 0) problems.push(`retrain before the change: ${early.map(iso).join(", ")}`);
  if (!scenario.shouldRetrain && retrainTimes.length > 0 && early.length === 0)
    problems.push(`retrained without need: ${retrainTimes.map(iso).join(", ")}`);

  const firstAlert = ds.find((d) => alerted(d) && first !== undefined && d.evaluatedAt > first);
  const firstAlertDelay =
    firstAlert !== undefined && first !== undefined ? firstAlert.evaluatedAt - first : undefined;
  if (scenario.shouldAlert && firstAlertDelay === undefined) problems.push("no alert after the change");
  if (scenario === FEATURE_OUTAGE && (firstAlertDelay === undefined || firstAlertDelay > 3 * HOUR_MS))
    problems.push("outage not reported within 3 hours");

  const firstRetrain = retrainTimes.find((t) => onset !== undefined && t > onset);
  // Negative when a gradual change was acted on before it reached the limit.
  const firstRetrainDelay =
    firstRetrain !== undefined && changeAt !== undefined ? firstRetrain - changeAt : undefined;
  const bound = scenario.shouldRetrain
    ? detectionBound(result.volumePerDay, result.labelDelayHours)
    : undefined;
  if (scenario.shouldRetrain && Number.isFinite(changeAt ?? Number.NaN)) {
    if (firstRetrainDelay === undefined) problems.push("no retrain after the change");
    else if (firstRetrainDelay > bound!)
      problems.push(
        `retrain ${Math.round(firstRetrainDelay / HOUR_MS)} h after the change (bound ${bound! / HOUR_MS} h)`,
      );
  }

  // No suppression deadlock: the data-quality gate never holds for longer than its escalation span.
  let gatedSince: number | undefined;
  for (const d of ds) {
    const gated = d.suppressions.some((s) => s.reason === "dataQualityGate");
    if (!gated) gatedSince = undefined;
    else {
      gatedSince ??= d.evaluatedAt;
      if (d.evaluatedAt - gatedSince > (DEFAULTS.signals.dataQuality.maxGateHours + 1) * HOUR_MS) {
        problems.push(`data-quality gate held since ${iso(gatedSince)}`);
        break;
      }
    }
  }
  return {
    falseAlerts: falseAlerts.length,
    retrains: retrainTimes.length,
    ...(firstAlertDelay !== undefined ? { firstAlertDelay } : {}),
    ...(firstRetrainDelay !== undefined ? { firstRetrainDelay } : {}),
    ...(bound !== undefined ? { bound } : {}),
    problems,
  };
}
