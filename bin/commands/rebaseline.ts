/**
 * `rebaseline --config <file> --model <id> --table <name> [--hours N] [--end <iso>] [--dry-run]`: make
 * the last hours of live traffic the model's baseline (lambdas/app/evaluate/rebaseline.ts). The
 * data-quality gate's escalation message names this command: after a breach that lasted
 * `dataQuality.maxGateHours`, the data may have changed for good, and once an operator has checked that
 * the new data is right, the evaluator should compare with it instead of the old baseline.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { Command, InvalidArgumentError } from "commander";
import { buildModelCatalog } from "../../contracts/catalog";
import { ConfigError, loadConfig } from "../../contracts/config";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import { RebaselineError, type RebaselineResult, rebaseline } from "../../lambdas/app/evaluate/rebaseline";

export interface RebaselineOptions {
  readonly config: string;
  readonly model: string;
  readonly table: string;
  readonly hours?: number;
  /** ISO time the traffic ends at (exclusive); default now. */
  readonly end?: string;
  readonly dryRun?: boolean;
}

/** Runs the use case against the state table; `now` and the client are injectable for tests. */
export async function runRebaseline(
  client: DynamoDBClient,
  opts: RebaselineOptions,
  now = Date.now(),
): Promise<RebaselineResult> {
  const catalog = buildModelCatalog(loadConfig(opts.config));
  const model = catalog.models.find((m) => m.id === opts.model);
  if (model === undefined)
    throw new RebaselineError(
      `no model "${opts.model}" in ${opts.config} (models: ${catalog.models.map((m) => m.id).join(", ")})`,
    );
  const to = opts.end === undefined ? now : Date.parse(opts.end);
  if (!Number.isFinite(to)) throw new RebaselineError(`--end must be an ISO time, got "${opts.end}"`);
  const repositories = { client, tableName: opts.table };
  return rebaseline(
    {
      stats: new DynamoDbStatsRepository(repositories),
      state: new DynamoDbModelStateRepository(repositories),
    },
    model,
    {
      to,
      ...(opts.hours !== undefined ? { hours: opts.hours } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    },
    now,
  );
}

/** One line for the terminal. */
export function describeRebaseline(r: RebaselineResult): string {
  const span = `${new Date(r.from).toISOString()} .. ${new Date(r.to).toISOString()}`;
  const what = `${r.predictions} predictions (${r.labelled} labelled so far) of ${span}`;
  return r.stored
    ? `model ${r.modelId}: baseline ${r.version} (was ${r.previousVersion ?? "none"}) from ${what}; the next evaluation compares with it`
    : `dry run: model ${r.modelId} would get baseline ${r.version} (now ${r.previousVersion ?? "none"}) from ${what}`;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
}

export function rebaselineCommand(): Command {
  return new Command("rebaseline")
    .description(
      "Make recent live traffic a model's baseline, e.g. after the data-quality gate escalated a lasting " +
        "change that you have checked is right. Drift and data quality are then judged against it.",
    )
    .requiredOption("--config <file>", "deployment configuration (as for cdk deploy)")
    .requiredOption("--model <id>", "model id")
    .requiredOption("--table <name>", "state table: the StateTableName output of the <name>-Stateful stack")
    .option("--hours <n>", "hours of traffic (default: the policy's referenceWindowHours)", positiveNumber)
    .option("--end <iso>", "end of that traffic (default: now)")
    .option("--dry-run", "only show what would be stored", false)
    .option("--region <region>", "AWS region (default: from the environment)")
    .option("--endpoint-url <url>", "DynamoDB endpoint (local emulators)")
    .action(async (opts: RebaselineOptions & { region?: string; endpointUrl?: string }) => {
      try {
        const client = new DynamoDBClient({
          ...(opts.region ? { region: opts.region } : {}),
          ...(opts.endpointUrl ? { endpoint: opts.endpointUrl } : {}),
        });
        process.stdout.write(`${describeRebaseline(await runRebaseline(client, opts))}\n`);
      } catch (err) {
        if (!(err instanceof RebaselineError || err instanceof ConfigError)) throw err;
        process.stderr.write(`rebaseline: ${err.message}\n`);
        process.exit(2);
      }
    });
}
