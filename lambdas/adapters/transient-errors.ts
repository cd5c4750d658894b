/**
 * Which AWS SDK (and network) errors are transient, and the error name under which the state machine
 * retries them with backoff and jitter. SDK error shapes are adapter knowledge; the workflow task
 * handler maps errors with {@link asTransient} as middleware.
 */
import { TRANSIENT_ERROR } from "../../contracts/workflow";

/**
 * A dependency failure worth retrying (throttling, 5xx, timeouts), re-thrown under the name the state
 * machine retries with backoff and jitter; the original name stays in the message.
 */
export class TransientError extends Error {
  override readonly name = TRANSIENT_ERROR;
}

const TRANSIENT_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
  "ServiceUnavailable",
  "InternalServerError",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/** Whether an AWS SDK (or network) error is transient: retryable by the SDK's own classification. */
export function isTransient(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e === null || typeof e !== "object") return false;
  if (e.$retryable) return true;
  if (TRANSIENT_NAMES.has(e.name ?? "") || TRANSIENT_NAMES.has(e.code ?? "")) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** The error the state machine should see: a TransientError for a transient failure, the error itself otherwise. */
export function asTransient(error: unknown): unknown {
  if (!isTransient(error)) return error;
  const e = error as Error;
  return new TransientError(`${e.name}: ${e.message}`, { cause: error });
}
