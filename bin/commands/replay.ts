/**
 * `replay --events <file.jsonl> --config <file> [--out decisions.jsonl] [--chaos] [--seed N]`:
 * backtest a trigger policy on a recorded event log through the real ingest and evaluate handlers on a
 * simulated clock (local/replay.ts). Prints one JSON line per evaluation on stdout (or writes them to
 * --out) and a final summary JSON. Bad files: a clear message (file:line) on stderr and exit code 2;
 * malformed lines never stop the replay, they are quarantined and counted like in production.
 */
import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "../../contracts/config";
import { EventLogError } from "../../local/event-log";
import { runReplay } from "../../local/replay";

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
}

export function replayCommand(): Command {
  return new Command("replay")
    .description(
      "Backtest a trigger policy on a recorded event log (JSON lines, schema v1, any order) through the real " +
        "ingest and evaluator code on a simulated clock, without training. One JSON line per evaluation, then a " +
        "summary JSON with ingest counts and a sha256 digest of the stored statistics.",
    )
    .requiredOption("--events <file.jsonl>", "recorded prediction and label events, one JSON object per line")
    .requiredOption(
      "--config <file>",
      "deployment configuration (as for cdk synth), e.g. config/example.config.json",
    )
    .option("--out <decisions.jsonl>", "write the decision lines to this file instead of stdout")
    .option(
      "--chaos",
      "redeliver random batches, fail (and so bisect) batches, inject DynamoDB throttling",
      false,
    )
    .option("--seed <n>", "seed of the --chaos fault injection", parseSeed, 1)
    .action(async (opts: { events: string; config: string; out?: string; chaos: boolean; seed: number }) => {
      try {
        const { summary } = await runReplay({
          eventsPath: opts.events,
          config: opts.config,
          ...(opts.out
            ? { outPath: opts.out }
            : { onDecision: (line: string) => process.stdout.write(`${line}\n`) }),
          ...(opts.chaos ? { chaos: { seed: opts.seed } } : {}),
        });
        for (const p of summary.problems)
          process.stderr.write(`replay: ${opts.events}:${p.line}: ${p.reason} (quarantined)\n`);
        if (summary.invalidLines > summary.problems.length)
          process.stderr.write(
            `replay: ... and ${summary.invalidLines - summary.problems.length} more bad lines\n`,
          );
        process.stdout.write(`${JSON.stringify({ summary })}\n`);
      } catch (err) {
        if (!(err instanceof EventLogError || err instanceof ConfigError)) throw err;
        process.stderr.write(`replay: ${err.message}\n`);
        process.exit(2);
      }
    });
}
