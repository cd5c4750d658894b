/** Model definitions the ingest tests share. */
import type { IngestModel } from "../../lambdas/domain/ingest/event-validation";

/**
 * An ingest model: by default the binary model `churn` with a numeric `tenure` and a categorical `plan`,
 * hourly buckets, a 24-hour label horizon and the prediction index on; `over` replaces fields.
 */
export function ingestModel(over: Partial<IngestModel> = {}): IngestModel {
  return {
    id: "churn",
    task: "binary",
    features: [
      { name: "tenure", kind: "numeric" },
      { name: "plan", kind: "categorical" },
    ],
    labelHorizonHours: 24,
    bucketMinutes: 60,
    predictionIndex: true,
    ...over,
  };
}
