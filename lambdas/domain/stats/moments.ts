/**
 * Mean and sum of squared deviations (M2) of a numeric summary, finite for any finite values.
 *
 * Welford's update and Chan's merge square differences of values: with 0 and 1e200 in one bucket, M2 is
 * 5e399, which is Infinity in float64, and the profile could no longer be stored (every window holding the
 * bucket would break). Rather than quarantine large values at ingest (which would lose the record's other
 * features, and ask users to know a range in advance), the moments are kept in a scaled representation:
 * values are multiplied by 2^-scale, with `scale` the smallest non-negative integer that brings every
 * |value| seen below 2^400. Powers of two scale exactly (apart from underflow of values negligible next to
 * the largest ones), so nothing changes for ordinary data: `scale` is 0 unless some |value| >= 2^400
 * (about 2.6e120), and the arithmetic is then the plain Welford/Chan arithmetic, bit for bit. With scaled
 * values below 2^400 in magnitude, squared deviations stay below 2^802 and M2 below 2^855 for up to 2^53
 * values: always finite. `scale` is a function of the largest |value| seen, so it does not depend on the
 * order of inserts and merges. At the other end nothing is scaled: a standard deviation below about 1e-150
 * loses precision as its squares underflow (it reads as 0 below about 1e-162), but stays finite.
 */

/** Scaled values stay below this magnitude; unscaled moments take values strictly inside +-MOMENT_LIMIT. */
export const MOMENT_LIMIT = 2 ** 400;
const SCALE_LIMIT = MOMENT_LIMIT;
/** log2 of SCALE_LIMIT. */
const LIMIT_EXPONENT = 400;

/** The moments of a numeric summary (a structural view of `NumericSummary`). */
export interface Moments {
  /** Finite values summarized. */
  count: number;
  /** Their mean (always finite: it lies within [min, max]). */
  mean: number;
  /** Sum of squared deviations from the mean, divided by 4^momentScale (finite for any finite values). */
  scaledM2: number;
  /** Power-of-two exponent of the scaling; 0 unless some |value| >= 2^400. */
  momentScale: number;
}

/** The scale needed for values up to `magnitude` in absolute value (0 below 2^400). */
export function momentScaleFor(magnitude: number): number {
  if (!(magnitude >= SCALE_LIMIT)) return 0;
  let scale = Math.max(1, Math.floor(Math.log2(magnitude)) - LIMIT_EXPONENT + 1);
  while (magnitude * 2 ** -scale >= SCALE_LIMIT) scale++;
  while (scale > 1 && magnitude * 2 ** -(scale - 1) < SCALE_LIMIT) scale--;
  return scale;
}

/** Clamp a rescaled mean to the finite range (a last-ulp rounding may push it past MAX_VALUE). */
function finiteMean(mean: number): number {
  return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, mean));
}

/** Change the scale of `m` to `scale` (larger than its current one). */
function rescale(m: Moments, scale: number): void {
  const shift = scale - m.momentScale;
  m.scaledM2 *= 2 ** (-2 * shift);
  m.momentScale = scale;
}

/**
 * Welford update with one finite value (mutates `m`). The common case (scale 0, |value| < 2^400) is the
 * plain update; callers on a hot path inline that case and call this for the rest.
 */
export function addMoment(m: Moments, value: number): void {
  if (m.momentScale === 0 && value < SCALE_LIMIT && value > -SCALE_LIMIT) {
    const n = ++m.count;
    const delta = value - m.mean;
    m.mean += delta / n;
    m.scaledM2 += delta * (value - m.mean);
    return;
  }
  const needed = momentScaleFor(Math.abs(value));
  if (needed > m.momentScale) rescale(m, needed);
  const factor = 2 ** -m.momentScale;
  const scaled = value * factor;
  let mean = m.mean * factor;
  const n = ++m.count;
  const delta = scaled - mean;
  mean += delta / n;
  m.scaledM2 += delta * (scaled - mean);
  m.mean = finiteMean(mean * 2 ** m.momentScale);
}

/** Chan's merge of two sets of moments (inputs unchanged); commutative, associative up to rounding. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  const count = a.count + b.count;
  if (count === 0) return { count: 0, mean: 0, scaledM2: 0, momentScale: 0 };
  const scale = Math.max(a.momentScale, b.momentScale);
  if (scale === 0) {
    const delta = b.mean - a.mean;
    return {
      count,
      mean: (a.count * a.mean + b.count * b.mean) / count,
      scaledM2: a.scaledM2 + b.scaledM2 + (delta * delta * a.count * b.count) / count,
      momentScale: 0,
    };
  }
  const factor = 2 ** -scale;
  const meanA = a.mean * factor;
  const meanB = b.mean * factor;
  const delta = meanB - meanA;
  return {
    count,
    mean: finiteMean(((a.count * meanA + b.count * meanB) / count) * 2 ** scale),
    scaledM2:
      a.scaledM2 * 2 ** (-2 * (scale - a.momentScale)) +
      b.scaledM2 * 2 ** (-2 * (scale - b.momentScale)) +
      (delta * delta * a.count * b.count) / count,
    momentScale: scale,
  };
}

/** Population standard deviation (ddof 0); finite whenever it is representable, 0 when count is 0. */
export function standardDeviation(m: Moments): number {
  if (m.count === 0) return 0;
  return Math.sqrt(m.scaledM2 / m.count) * 2 ** m.momentScale;
}

/** Population variance; may be Infinity for values whose variance exceeds float64 (use the deviation). */
export function variance(m: Moments): number {
  if (m.count === 0) return 0;
  return (m.scaledM2 / m.count) * 2 ** (2 * m.momentScale);
}
