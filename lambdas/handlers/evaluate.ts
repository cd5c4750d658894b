/**
 * Evaluator Lambda, invoked by EventBridge Scheduler with `{"time": "<scheduled ISO time>"}`.
 * Composition root: the DynamoDB, SNS and Step Functions adapters, Powertools, and the schedule-slot
 * use case (app/evaluate/evaluate-slot.ts). When some models failed, the invocation fails after all
 * models ran, so the scheduler retries the slot (idempotently: decisions are recorded once per slot).
 *
 * Environment: `TABLE_NAME`, `TOPIC_ARN`, `STATE_MACHINE_ARN`; optional `LEASE_TTL_HOURS` (default 24);
 * the bundled model catalog.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { HOUR_MS } from "../../contracts/time";
import { DynamoDbModelStateRepository } from "../adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../adapters/dynamodb-stats-repository";
import { SfnWorkflowStarter } from "../adapters/sfn-workflow-starter";
import { SnsNotifier } from "../adapters/sns-notifier";
import { type EvaluateEvent, evaluateSlot } from "../app/evaluate/evaluate-slot";
import type { EvaluationReport, EvaluatorDeps } from "../app/evaluate/evaluator";
import { loadModelCatalog, optionalNumber, requireEnv } from "./environment";
import { failWhen, type Powertools, powertools, telemetryOf, withPowertools } from "./powertools";

/** Thrown after all models ran when some failed, so the scheduler retries the slot (idempotently). */
export class EvaluationFailedError extends Error {
  override readonly name = "EvaluationFailedError";
}

/** The error a report with failed models maps to. */
export function failedModels(report: EvaluationReport): EvaluationFailedError | undefined {
  const failed = report.models.filter((m) => m.error !== undefined);
  if (failed.length === 0) return undefined;
  return new EvaluationFailedError(
    `${failed.length} of ${report.models.length} models failed: ${failed.map((f) => `${f.modelId}: ${f.error}`).join("; ")}`,
  );
}

/** The middy-wrapped handler over injected dependencies (tests and local mode). */
export function createEvaluateHandler(
  deps: Omit<EvaluatorDeps, "telemetry" | "log"> & { readonly tools?: Partial<Powertools> },
) {
  const tools = powertools(SERVICE_NAMES.evaluator, deps.tools);
  const evaluator: EvaluatorDeps = { ...deps, telemetry: telemetryOf(tools), log: tools.logger };
  const base = (event: EvaluateEvent, _context: Context) => evaluateSlot(evaluator, event ?? {});
  return withPowertools(base, tools, failWhen(failedModels));
}

let singleton: ReturnType<typeof createEvaluateHandler> | undefined;

/** The deployed handler: dependencies from the environment, built once per container. */
export const handler = (event: EvaluateEvent, context: Context): Promise<EvaluationReport> => {
  if (!singleton) {
    const env = process.env;
    const { TABLE_NAME, TOPIC_ARN, STATE_MACHINE_ARN } = requireEnv(env, [
      "TABLE_NAME",
      "TOPIC_ARN",
      "STATE_MACHINE_ARN",
    ]);
    const tools = powertools(SERVICE_NAMES.evaluator);
    const dynamodb = tools.tracer.captureAWSv3Client(new DynamoDBClient({}));
    const leaseTtlHours = optionalNumber(env, "LEASE_TTL_HOURS");
    singleton = createEvaluateHandler({
      models: loadModelCatalog(env).models,
      stats: new DynamoDbStatsRepository({ client: dynamodb, tableName: TABLE_NAME }),
      state: new DynamoDbModelStateRepository({ client: dynamodb, tableName: TABLE_NAME }),
      notifier: new SnsNotifier({
        client: tools.tracer.captureAWSv3Client(new SNSClient({})),
        topicArn: TOPIC_ARN,
      }),
      workflow: new SfnWorkflowStarter({
        client: tools.tracer.captureAWSv3Client(new SFNClient({})),
        stateMachineArn: STATE_MACHINE_ARN,
      }),
      ...(leaseTtlHours !== undefined ? { leaseTtlMs: leaseTtlHours * HOUR_MS } : {}),
      tools,
    });
  }
  return singleton(event, context);
};
