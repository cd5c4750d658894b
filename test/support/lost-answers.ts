/**
 * Lost answers: an AWS SDK middleware that lets a request reach the service and complete (the write
 * commits), then throws as if the connection dropped before the answer arrived, so the caller cannot tell
 * whether the write happened. This is the failure an idempotent writer must survive: the retry repeats a
 * write that is already there. (An error thrown before the request is sent only tests the easy case.)
 *
 * Two placements:
 * - `caller`: in the `initialize` step, outside the SDK's retry loop: the adapter sees the error, as after
 *   the SDK has given up, and the caller (the event source mapping) retries the batch.
 * - `sdk`: in the `deserialize` step, inside the retry loop: the SDK's own retry strategy classifies the
 *   error as transient and sends the same request again (a conditional write then fails its condition).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface LostAnswerOptions {
  /** SDK command names whose answers may be lost, e.g. `PutItemCommand`. */
  readonly commands: readonly string[];
  /** Whether to lose the answer of the `n`-th matching call (1-based, counted per client). */
  readonly lose: (n: number, command: string) => boolean;
  /** @default "caller" */
  readonly placement?: "caller" | "sdk";
}

/** What the middleware did: the commands whose answers it dropped, in order. */
export interface LostAnswerLog {
  readonly lost: string[];
  readonly calls: number;
}

/** A network error after the request was sent, as Node reports a connection reset. */
export class LostAnswerError extends Error {
  override readonly name = "TimeoutError";
  readonly code = "ECONNRESET";
  readonly $metadata = {};
  constructor(command: string) {
    super(`${command}: connection reset after the request was sent (answer lost, injected by the test)`);
  }
}

/** Adds the middleware to `client` (use a client of its own: the stack is per client). */
export function loseAnswers(client: DynamoDBClient, options: LostAnswerOptions): LostAnswerLog {
  const log = { lost: [] as string[], calls: 0 };
  // One middleware for both steps: it only awaits `next` and inspects the command name.
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const command = context.commandName ?? "";
      if (!options.commands.includes(command)) return next(args);
      log.calls++;
      const result = await next(args);
      if (options.lose(log.calls, command)) {
        log.lost.push(command);
        throw new LostAnswerError(command);
      }
      return result;
    };
  if ((options.placement ?? "caller") === "caller")
    client.middlewareStack.add(middleware as never, { step: "initialize", name: "loseAnswersAfterCommit" });
  else
    client.middlewareStack.add(middleware as never, {
      step: "deserialize",
      name: "loseAnswersAfterCommit",
      priority: "low",
    });
  return log;
}
