/**
 * Telemetry names shared by the Lambdas (which emit them with Powertools) and the CDK app (whose
 * dashboard and alarms chart them). One place, so a renamed metric cannot leave an alarm watching
 * nothing.
 */

/** CloudWatch namespace of every custom metric (Powertools `POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = "RetrainTriggers";

/**
 * Custom metric names. Dimensions: `service` (added by Powertools from `POWERTOOLS_SERVICE_NAME`, see
 * {@link SERVICE_NAMES}) and, for per-model metrics, `modelId`.
 */
export const METRIC_NAMES = {
  /** ingest: every record seen for a model, valid or quarantined (Count). */
  recordsReceived: "RecordsReceived",
  /**
   * ingest: records rejected and written to quarantine (Count); modelId `_unknown` when the model id is
   * unreadable, malformed (reason `invalid-model-id`) or not configured (reason `unknown-model`), which
   * keeps producer-chosen ids out of the
   * metric dimensions and puts those records under one alarm.
   */
  recordsQuarantined: "RecordsQuarantined",
  /** ingest: prediction events aggregated into bucket profiles (Count). */
  predictionsIngested: "PredictionsIngested",
  /** ingest: label events joined or stored (Count). */
  labelsIngested: "LabelsIngested",
  /** evaluator: aggregated (importance-weighted) share of drifted features, 0..1 (None). */
  driftScore: "DriftScore",
  /** evaluator: realized value of the policy's performance metric in the window (None). */
  performance: "Performance",
  /** evaluator: label-free (CBPE) estimate of the policy's estimated metric (None). */
  estimatedPerformance: "EstimatedPerformance",
  /** evaluator: evaluations run (Count). */
  evaluations: "Evaluations",
  /** evaluator: decisions that started a retraining workflow (Count). */
  retrainDecisions: "RetrainDecisions",
  /** evaluator: decisions whose rule held but a stability control suppressed the retrain (Count). */
  retrainsSuppressed: "RetrainsSuppressed",
  /** evaluator: evaluations whose data-quality gate breached (alert instead of retrain) (Count). */
  dataQualityBreaches: "DataQualityBreaches",
} as const;

/** Diagnostic metrics: emitted for investigations, neither charted on the dashboard nor alarmed. */
export const DIAGNOSTIC_METRIC_NAMES = {
  /** ingest: labels whose prediction came from the prediction index (a DynamoDB join), not from the event (Count). */
  labelsJoined: "LabelsJoined",
  /** ingest: records per invocation, dimension `service` only, so every invocation publishes a metric (Count). */
  batchRecords: "IngestBatchRecords",
} as const;

/** `POWERTOOLS_SERVICE_NAME` of each Lambda; Powertools adds it to every metric as dimension `service`. */
export const SERVICE_NAMES = {
  ingest: "ingest",
  evaluator: "evaluator",
  workflow: "workflow",
  alarmRelay: "alarm-relay",
} as const;

/** modelId dimension value for quarantined records whose model cannot be read from the payload or is not configured. */
export const UNKNOWN_MODEL_ID = "_unknown";
