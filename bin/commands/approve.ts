/**
 * `approve --token <t> [--reject --reason <why>] [--comment <text>]`: answers the retraining workflow's
 * approval request. The SNS approval message contains the exact command with the task token; approving
 * sends SendTaskSuccess (the run deploys the challenger), rejecting sends SendTaskFailure with the error
 * `ApprovalRejected` (the run alerts, releases the lease and ends with the champion unchanged).
 */
import { userInfo } from "node:os";
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { Command } from "commander";
import { APPROVAL_REJECTED_ERROR } from "../../contracts/workflow";

/** The command was used wrongly (e.g. `--reject` without `--reason`): exit code 2. */
export class ApproveUsageError extends Error {
  override readonly name = "ApproveUsageError";
}

export interface ApproveOptions {
  readonly token: string;
  readonly reject?: boolean;
  readonly reason?: string;
  readonly comment?: string;
  /** Who answers (recorded in the execution history); default: the OS user. */
  readonly by?: string;
}

/** The minimal client surface, so tests can pass a fake or an aws-sdk-client-mock'ed SFNClient. */
export interface TaskTokenClient {
  send(command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<unknown>;
}

/**
 * Sends the answer. Step Functions limits `cause` to 32,768 characters; the reason is truncated well
 * below that. Returns a one-line summary for the terminal.
 */
export async function answerApproval(
  client: TaskTokenClient,
  opts: ApproveOptions,
  now = new Date(),
): Promise<string> {
  const token = opts.token.trim();
  if (token === "") throw new ApproveUsageError("--token must not be empty");
  const by = opts.by ?? userInfo().username;
  if (opts.reject) {
    if (!opts.reason || opts.reason.trim() === "")
      throw new ApproveUsageError("--reject needs --reason <why>");
    await client.send(
      new SendTaskFailureCommand({
        taskToken: token,
        error: APPROVAL_REJECTED_ERROR,
        cause: `rejected by ${by}: ${opts.reason.trim()}`.slice(0, 4000),
      }),
    );
    return `rejected: the run will end with the champion unchanged (${opts.reason.trim()})`;
  }
  await client.send(
    new SendTaskSuccessCommand({
      taskToken: token,
      output: JSON.stringify({
        approved: true,
        by,
        at: now.toISOString(),
        ...(opts.comment ? { comment: opts.comment } : {}),
      }),
    }),
  );
  return "approved: the run continues with the deployment";
}

export function approveCommand(): Command {
  return new Command("approve")
    .description(
      "Approve (or with --reject, reject) a retrained model waiting in the retraining workflow, using the task token from the approval message.",
    )
    .requiredOption("--token <token>", "task token from the SNS approval message")
    .option("--reject", "reject instead of approve (requires --reason)")
    .option("--reason <why>", "why the model is rejected (shown in the failure alert)")
    .option("--comment <text>", "note recorded with an approval")
    .option("--region <region>", "AWS region of the state machine (default: from the environment)")
    .action(async (opts: ApproveOptions & { region?: string }) => {
      try {
        const client = new SFNClient(opts.region ? { region: opts.region } : {});
        process.stdout.write(`${await answerApproval(client, opts)}\n`);
      } catch (err) {
        const e = err as Error;
        if (e instanceof ApproveUsageError) {
          process.stderr.write(`approve: ${e.message}\n`);
          process.exit(2);
        }
        // Expired, already answered or malformed tokens come back as TaskTimedOut / InvalidToken / TaskDoesNotExist.
        if (["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"].includes(e.name)) {
          process.stderr.write(
            `approve: ${e.name}: ${e.message} (the approval may have expired or been answered)\n`,
          );
          process.exit(1);
        }
        throw err;
      }
    });
}
