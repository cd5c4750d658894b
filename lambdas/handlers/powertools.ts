/**
 * The middleware every handler shares: Powertools tracer, logger and metrics in the order Powertools'
 * examples use (tracer, logger, metrics with the cold-start metric), plus error mapping as middleware,
 * so handlers stay composition roots and use cases never see Lambda plumbing.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { METRICS_NAMESPACE } from "../../contracts/telemetry";
import { PowertoolsTelemetry } from "../adapters/powertools-telemetry";

/** The Powertools utilities of one function. */
export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** Powertools for a service, with any utility given by the caller (tests pass their own) kept. */
export function powertools(serviceName: string, given: Partial<Powertools> = {}): Powertools {
  return {
    logger: given.logger ?? new Logger({ serviceName }),
    metrics: given.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
    tracer: given.tracer ?? new Tracer({ serviceName }),
  };
}

/** The Telemetry port over a function's Powertools metrics. */
export function telemetryOf(tools: Powertools): PowertoolsTelemetry {
  return new PowertoolsTelemetry(tools.metrics);
}

/**
 * Maps an error to the one the caller should see (e.g. a throttled dependency to the name the state
 * machine retries). Runs after the handler failed, before Powertools logs and flushes.
 */
export function mapErrors<E, R>(map: (error: unknown) => unknown): MiddlewareObj<E, R, Error, Context> {
  return {
    onError: async (request) => {
      const mapped = map(request.error);
      if (mapped !== request.error) request.error = mapped as Error;
    },
  };
}

/**
 * Turns a result into an error after the handler returned (e.g. an evaluation report in which some
 * models failed, so the scheduler retries the slot). `check` returns the error to throw, if any.
 */
export function failWhen<E, R>(check: (result: R) => Error | undefined): MiddlewareObj<E, R, Error, Context> {
  return {
    after: async (request) => {
      const response = request.response as R | null | undefined;
      const error = response === undefined || response === null ? undefined : check(response);
      if (error) throw error;
    },
  };
}

/** Wraps a handler in the shared Powertools middleware and then `extra` (innermost last). */
export function withPowertools<E, R>(
  base: (event: E, context: Context) => Promise<R>,
  tools: Powertools,
  ...extra: MiddlewareObj<E, R, Error, Context>[]
) {
  let handler = middy(base)
    .use(captureLambdaHandler(tools.tracer))
    .use(injectLambdaContext(tools.logger))
    .use(logMetrics(tools.metrics, { captureColdStartMetric: true }));
  for (const middleware of extra) handler = handler.use(middleware);
  return handler;
}
