/**
 * Daily seasonality: traffic and some features follow the hour of day. A stationary-but-seasonal
 * stream must not trigger retraining when the evaluation window spans whole days; that is what the
 * `stationary-seasonal` scenario checks.
 */

import { HOUR_MS } from "../../contracts/time";

/**
 * Multiplicative daily cycle with mean 1: `1 + amplitude * cos(2 pi (hour - peakHour) / 24)`.
 * `amplitude` in [0, 1).
 */
export function dailyCycle(t: number, amplitude: number, peakHourUtc = 14): number {
  const hour = (t / HOUR_MS) % 24;
  return 1 + amplitude * Math.cos((2 * Math.PI * (hour - peakHourUtc)) / 24);
}

/** Additive daily cycle with mean 0, for feature values. */
export function dailyOffset(t: number, amplitude: number, peakHourUtc = 14): number {
  return dailyCycle(t, amplitude, peakHourUtc) - 1;
}
