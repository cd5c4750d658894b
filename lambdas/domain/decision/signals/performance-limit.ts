/**
 * The limit shared by the performance signals, realized (from joined labels) and estimated (label-free,
 * CBPE): an absolute floor and a relative drop from the baseline's value; the stricter of the two
 * applies, so either condition breaches.
 */
import { PERFORMANCE_METRICS, type PerformanceMetricName } from "../../../../contracts/policy";

/** Limit below which (above which for error metrics) the metric breaches; undefined when neither floor nor baseline exists. */
export function performanceLimit(
  metric: PerformanceMetricName,
  floor: number | undefined,
  maxRelativeDrop: number,
  baseline: number | undefined,
): number | undefined {
  const higherIsBetter = PERFORMANCE_METRICS[metric];
  const relative =
    baseline === undefined
      ? undefined
      : higherIsBetter
        ? baseline * (1 - maxRelativeDrop)
        : baseline * (1 + maxRelativeDrop);
  if (floor === undefined) return relative;
  if (relative === undefined) return floor;
  return higherIsBetter ? Math.max(floor, relative) : Math.min(floor, relative);
}
