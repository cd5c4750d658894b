/**
 * Which buckets' labels are mature. Labels join the bucket of their prediction and arrive hours or days
 * later, so recent buckets hold only the labels that came back first; when one class comes back sooner
 * (fraud confirmed fast, legitimate traffic never), immature buckets give a biased metric. The realized
 * performance signal therefore judges the latest window whose buckets are mature, found from the label
 * coverage (labelled / predictions) of each bucket, with no configuration:
 *
 * - the plateau is the coverage of buckets older than the label horizon (their labels can no longer
 *   arrive), or, while the history is shorter than the horizon, the highest coverage of any window read;
 * - a window is mature when its pooled coverage, and that of its newest quarter, have reached the plateau
 *   (within two binomial standard errors, plus 1 and 2 points), or when all of it is older than the
 *   horizon: a window whose newest hours still wait for one class's labels is not mature;
 * - the performance window is the latest mature window of `windowHours`.
 */
import { HOUR_MS } from "../../../contracts/time";

/** Predictions and labelled pairs of one bucket. */
export interface BucketCoverage {
  readonly bucketStart: number;
  readonly predictions: number;
  readonly labelled: number;
}

export interface MaturityInputs {
  readonly buckets: readonly BucketCoverage[];
  readonly now: number;
  readonly bucketMs: number;
  readonly windowHours: number;
  readonly labelHorizonHours: number;
}

export interface MatureWindow {
  readonly from: number;
  readonly to: number;
  /** Pooled coverage of the window. */
  readonly coverage: number;
  /** Coverage the labels plateau at. */
  readonly plateau: number;
  /** Hours between the window's end and the evaluation: how late labels come. */
  readonly lagHours: number;
}

export type MaturityResult =
  | { readonly window: MatureWindow }
  | { readonly window?: undefined; readonly reason: string; readonly plateau: number };

interface Pooled {
  predictions: number;
  labelled: number;
}

function pool(buckets: readonly BucketCoverage[], from: number, to: number): Pooled {
  const out = { predictions: 0, labelled: 0 };
  for (const bucket of buckets) {
    if (bucket.bucketStart < from || bucket.bucketStart >= to) continue;
    out.predictions += bucket.predictions;
    out.labelled += bucket.labelled;
  }
  return out;
}

const coverageOf = (p: Pooled): number => (p.predictions > 0 ? Math.min(1, p.labelled / p.predictions) : 0);

/** The latest window of `windowHours` whose labels are mature, or why there is none. */
export function matureWindow(inputs: MaturityInputs): MaturityResult {
  const { buckets, now, bucketMs } = inputs;
  const windowMs = inputs.windowHours * HOUR_MS;
  const horizonMs = inputs.labelHorizonHours * HOUR_MS;
  // Buckets that ended before now - horizon can receive no more labels.
  const settledEnd = now - horizonMs;
  const settled = pool(buckets, Number.NEGATIVE_INFINITY, settledEnd - bucketMs + 1);
  let plateau: number;
  if (settled.predictions > 0) {
    plateau = coverageOf(settled);
  } else {
    plateau = 0;
    for (let end = now; end - windowMs >= now - horizonMs - windowMs; end -= bucketMs)
      plateau = Math.max(plateau, coverageOf(pool(buckets, end - windowMs, end)));
  }
  if (plateau === 0) return { reason: "no labelled predictions in the buckets read", plateau };
  for (let end = now; end - windowMs >= now - horizonMs - windowMs; end -= bucketMs) {
    const from = end - windowMs;
    const pooled = pool(buckets, from, end);
    if (pooled.predictions === 0) continue;
    const coverage = coverageOf(pooled);
    const newest = pool(buckets, end - windowMs / 4, end);
    const reached = (p: Pooled, slack: number) =>
      p.predictions === 0 ||
      coverageOf(p) >= plateau - 2 * Math.sqrt((plateau * (1 - plateau)) / p.predictions) - slack;
    if ((reached(pooled, 0.01) && reached(newest, 0.02)) || end <= settledEnd)
      return { window: { from, to: end, coverage, plateau, lagHours: (now - end) / HOUR_MS } };
  }
  return { reason: "no window read has mature labels yet", plateau };
}
