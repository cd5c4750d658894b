/**
 * Telemetry on Powertools metrics (CloudWatch embedded metric format). A metric with dimension sets is
 * published at once as a single metric carrying each set (next to the `service` default); one without
 * is added to the invocation's batch, flushed by the logMetrics middleware.
 */
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Dimensions, Telemetry } from "../ports/telemetry";

export class PowertoolsTelemetry implements Telemetry {
  constructor(private readonly metrics: Metrics) {}

  count(name: string, value: number, ...dimensionSets: Dimensions[]): void {
    this.emit(name, MetricUnit.Count, value, dimensionSets);
  }

  value(name: string, value: number, ...dimensionSets: Dimensions[]): void {
    this.emit(name, MetricUnit.NoUnit, value, dimensionSets);
  }

  private emit(
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
    dimensionSets: readonly Dimensions[],
  ): void {
    if (!Number.isFinite(value)) return;
    if (dimensionSets.length === 0) {
      this.metrics.addMetric(name, unit, value);
      return;
    }
    // A single metric publishes (and clears its dimensions) on addMetric: one instance per value. Each
    // addDimensions call adds one dimension set.
    const single = this.metrics.singleMetric();
    for (const set of dimensionSets) single.addDimensions({ ...set });
    single.addMetric(name, unit, value);
  }
}
