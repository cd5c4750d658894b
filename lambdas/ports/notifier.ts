/**
 * Alerts to humans and other systems. Severity and model id travel as message attributes so that
 * subscribers filter (e.g. a pager only for `retrain`, a chat channel for `warn` and above).
 */
import type { Severity } from "../../contracts/policy";

export interface Notification {
  readonly subject: string;
  readonly message: string;
  readonly severity: Severity;
  /** The model the alert is about; absent for alerts about the system (e.g. an ingest-lag alarm). */
  readonly modelId?: string;
  /** Extra string attributes (e.g. `action`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface Notifier {
  /** Publishes one notification; returns the transport's message id. */
  publish(notification: Notification): Promise<{ messageId?: string }>;
}
