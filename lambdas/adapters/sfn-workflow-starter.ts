/**
 * WorkflowStarter on Step Functions. The execution name is deterministic (model + window), and Step
 * Functions refuses a second execution with the same name (ExecutionAlreadyExists, for 90 days after
 * the first closed): a retried evaluation therefore learns that its run exists instead of starting a
 * second one.
 */
import { type SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { WorkflowStart, WorkflowStarter, WorkflowStartResult } from "../ports/workflow-starter";

export interface SfnWorkflowStarterOptions {
  readonly client: SFNClient;
  readonly stateMachineArn: string;
}

/**
 * Execution name for a model's retrain decided at `evaluatedAt`: `<modelId>-retrain-<yyyymmddThhmmssZ>`. Step
 * Functions names allow 80 characters of [A-Za-z0-9-_]; model ids are at most 32 such characters.
 */
export function executionName(modelId: string, evaluatedAt: number): string {
  const stamp = new Date(evaluatedAt)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  return `${modelId.replace(/[^A-Za-z0-9_-]/g, "_")}-retrain-${stamp}`.slice(0, 80);
}

/** ARN of an execution from its state machine ARN and name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
}

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(private readonly options: SfnWorkflowStarterOptions) {}

  async start(request: WorkflowStart): Promise<WorkflowStartResult> {
    try {
      const out = await this.options.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.options.stateMachineArn,
          name: request.name,
          input: JSON.stringify(request.input),
        }),
      );
      return {
        executionArn: out.executionArn ?? executionArnOf(this.options.stateMachineArn, request.name),
        alreadyStarted: false,
      };
    } catch (error) {
      if ((error as { name?: string }).name === "ExecutionAlreadyExists")
        return {
          executionArn: executionArnOf(this.options.stateMachineArn, request.name),
          alreadyStarted: true,
        };
      throw error;
    }
  }
}
