/**
 * Where use cases report what they did: counters and values for dashboards and alarms (names in
 * contracts/telemetry.ts) and structured log lines. Metrics are at-least-once (a redelivered batch is
 * counted again); the stored statistics are the exactly-once truth.
 */

/** One set of metric dimensions, e.g. `{ modelId: "churn" }` or `{ modelId: "churn", reason: "invalid-json" }`. */
export type Dimensions = Readonly<Record<string, string>>;

/**
 * Each metric is published under every dimension set given (none: only the function's `service`), so
 * one value can feed an alarm per model and a breakdown per model and reason.
 */
export interface Telemetry {
  /** A count (CloudWatch unit Count). */
  count(name: string, value: number, ...dimensionSets: Dimensions[]): void;
  /** A dimensionless value, e.g. a drift score or an accuracy (CloudWatch unit None). */
  value(name: string, value: number, ...dimensionSets: Dimensions[]): void;
}

/** Structured log lines; Powertools' Logger satisfies it. */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Telemetry that records nothing (tools and tests that do not look at metrics). */
export const NO_TELEMETRY: Telemetry = { count: () => undefined, value: () => undefined };

/** A log that writes nothing. */
export const SILENT_LOG: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
