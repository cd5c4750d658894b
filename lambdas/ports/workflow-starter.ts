/**
 * Starts the retraining workflow. Names are deterministic (model + window), so starting the same
 * retrain twice is reported as `alreadyStarted` instead of running twice.
 */
export interface WorkflowStart {
  /** Execution name: unique per model and evaluation window. */
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
}

export interface WorkflowStartResult {
  readonly executionArn: string;
  /** An execution with this name existed already (a retried evaluation). */
  readonly alreadyStarted: boolean;
}

export interface WorkflowStarter {
  start(request: WorkflowStart): Promise<WorkflowStartResult>;
}
