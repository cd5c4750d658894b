/**
 * The time range a recorded log really covers, from how many lines fall in each hour: what the replay's
 * simulated clock spans. A stray line (a producer clock stuck in 2019, a typo'd 2031) must not stretch it:
 * the replay would evaluate every schedule slot in between.
 *
 * Rule: hours with lines form clusters separated by gaps of more than `gapHours` without lines. The range
 * runs from the first to the last line of the clusters that hold at least `minShare` of the lines and at
 * least `min(minLines, largest cluster)` lines (the largest cluster always counts). A sparse log (a line
 * every few days) is kept whole; one line or a handful of lines far from the rest are strays. Strays are
 * still replayed: they arrive at the range's edge, where the ingest judges their timestamps like any
 * other (too old, in the future, or a late event for an old bucket).
 */
import { HOUR_MS } from "../contracts/time";

/** Lines whose event time falls in one UTC hour. */
export interface HourCount {
  /** Hour index: floor(t / 1 h). */
  readonly hour: number;
  readonly count: number;
  /** Earliest and latest event time in the hour, epoch ms. */
  readonly minT: number;
  readonly maxT: number;
}

export interface RangeOptions {
  /** @default 48 */
  readonly gapHours?: number;
  /** @default 0.05 */
  readonly minShare?: number;
  /** @default 3 */
  readonly minLines?: number;
}

export interface TimeRange {
  readonly from: number;
  readonly to: number;
  /** Lines outside [from, to]. */
  readonly strays: number;
}

/** The real range of a log from its hour counts (any order); undefined when there are none. */
export function realRange(hours: readonly HourCount[], options: RangeOptions = {}): TimeRange | undefined {
  if (hours.length === 0) return undefined;
  const gap = options.gapHours ?? 48;
  const minShare = options.minShare ?? 0.05;
  const minLines = options.minLines ?? 3;
  const sorted = [...hours].sort((a, b) => a.hour - b.hour);
  const clusters: Array<{ count: number; from: number; to: number }> = [];
  for (const h of sorted) {
    const last = clusters[clusters.length - 1];
    const previousHour = last === undefined ? undefined : Math.floor(last.to / HOUR_MS);
    if (last && previousHour !== undefined && h.hour - previousHour <= gap) {
      last.count += h.count;
      last.from = Math.min(last.from, h.minT);
      last.to = Math.max(last.to, h.maxT);
    } else clusters.push({ count: h.count, from: h.minT, to: h.maxT });
  }
  const total = clusters.reduce((s, c) => s + c.count, 0);
  const largest = clusters.reduce((best, c) => (c.count > best.count ? c : best));
  const kept = clusters.filter(
    (c) => c === largest || (c.count >= minShare * total && c.count >= Math.min(minLines, largest.count)),
  );
  const from = Math.min(...kept.map((c) => c.from));
  const to = Math.max(...kept.map((c) => c.to));
  const strays = clusters.filter((c) => c.to < from || c.from > to).reduce((s, c) => s + c.count, 0);
  return { from, to, strays };
}
