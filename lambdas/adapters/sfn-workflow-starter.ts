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
