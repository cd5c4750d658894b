/**
 * `replay --events <file|dir>... --config <file> [--policy p.json]... [--sweep path=v1,v2] [--out f]`:
 * backtest trigger policies on recorded event logs through the production ingest and evaluate use cases
 * on a simulated clock (local/replay.ts). Decision lines go to stdout (or --out, as they are made); the
 * per-policy table and quarantined lines go to stderr; the final summary JSON is the last stdout line.
 * Exit code 0 with counts whatever the lines hold; 2 for a problem with a file or the options as a whole.
 */
import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "../../contracts/config";
import { formatPolicyTable } from "../../local/backtest";
import { EventLogError } from "../../local/event-log";
import { type EngineKind, ReplayOptionsError, type ReplayProgress, runReplay } from "../../local/replay";
import { parseSweep } from "../../local/replay-policies";
import { writeReplayReport } from "../../local/replay-report";

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
}

const collect = (v: string, previous: string[] = []): string[] => [...previous, v];

/** `2026-03-01T00:00Z` (every model) or `churn@2026-03-01T00:00Z`. */
function parseChangePoint(v: string, previous: Array<{ at: number; modelId?: string }> = []) {
  const at = v.lastIndexOf("@");
  const modelId = at > 0 ? v.slice(0, at) : undefined;
  const t = Date.parse(at > 0 ? v.slice(at + 1) : v);
  if (Number.isNaN(t))
    throw new InvalidArgumentError("expected an ISO time, optionally prefixed by <modelId>@");
  return [...previous, { at: t, ...(modelId ? { modelId } : {}) }];
}

/** A one-line progress bar on stderr, redrawn at most every 200 ms. */
function progressBar(): { update: (p: ReplayProgress) => void; done: () => void } {
  let last = 0;
  const draw = (p: ReplayProgress) => {
    const share = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const width = 30;
    const bar = "#".repeat(Math.round(share * width)).padEnd(width, ".");
    const what =
      p.phase === "read"
        ? `reading ${(p.done / 2 ** 20).toFixed(0)}/${(p.total / 2 ** 20).toFixed(0)} MiB`
        : `replaying ${p.done}/${p.total} lines${p.at ? `, at ${new Date(p.at).toISOString().slice(0, 16)}Z` : ""}`;
    process.stderr.write(`\r[${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${what}\u001b[K`);
  };
  return {
    update: (p) => {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      draw(p);
    },
    done: () => process.stderr.write("\r\u001b[K"),
  };
}

interface ReplayCliOptions {
  events: string[];
  config: string;
  out?: string;
  quarantineOut?: string;
  report?: string;
  policy?: string[];
  sweep?: string;
  changePoint?: Array<{ at: number; modelId?: string }>;
  emulators: boolean;
  chaos: boolean;
  seed: number;
  progress: boolean;
  train?: "local";
}

export function replayCommand(): Command {
  return new Command("replay")
    .description(
      "Backtest trigger policies on recorded event logs (JSON lines, schema v1, any order; files, gzip or " +
        "directories) through the production ingest and evaluator code on a simulated clock (training " +
        "only with --train local). One JSON line per evaluation, a table per policy (alerts, retrains, suppressions, delay " +
        "to the first action after each change point), then a summary JSON.",
    )
    .requiredOption(
      "--events <path...>",
      "event log files (plain or gzip) or directories (e.g. an archive copy); - reads the standard input",
    )
    .requiredOption(
      "--config <file>",
      "deployment configuration (as for cdk synth), e.g. config/example.config.json",
    )
    .option("--policy <file>", "a trigger policy (JSON, as models[].policy) to compare; repeatable", collect)
    .option(
      "--sweep <path=values>",
      "compare values of one policy field, e.g. signals.drift.maxDriftedShare=0.2,0.3",
    )
    .option(
      "--change-point <[model@]time>",
      "measure reaction delays from this change (repeatable); default: found from the labels' accuracy",
      parseChangePoint,
    )
    .option(
      "--out <decisions.jsonl>",
      "write the decision lines to this file (as they are made) instead of stdout",
    )
    .option("--quarantine-out <file.jsonl>", "write every quarantined line (file, line, reason, detail)")
    .option("--report <file.html>", "write an HTML report: signals against thresholds, decisions per policy")
    .option(
      "--emulators",
      "run through kinesalite, dynalite and the Lambda handlers (slower, fidelity)",
      false,
    )
    .option(
      "--chaos",
      "with --emulators: redeliver random batches, fail (and so bisect) batches, inject DynamoDB throttling",
      false,
    )
    .option("--seed <n>", "seed of the --chaos fault injection", parseSeed, 1)
    .option(
      "--train <mode>",
      "local: counterfactual retraining (SIMULATED: the local trainer on the log's labelled events, the " +
        "production validation gate; a model that passes serves the log's later predictions)",
      (v: string) => {
        if (v !== "local") throw new InvalidArgumentError("the only mode is local");
        return v;
      },
    )
    .option("--no-progress", "no progress bar (it is shown only on a terminal)")
    .action(async (opts: ReplayCliOptions) => {
      // A terminal outside CI (as local mode decides; not imported from it, see bin/commands/local.ts).
      const bar = opts.progress && process.stderr.isTTY && !process.env.CI ? progressBar() : undefined;
      try {
        const engine: EngineKind = opts.emulators || opts.chaos ? "emulators" : "memory";
        const result = await runReplay({
          eventsPath: opts.events,
          config: opts.config,
          engine,
          ...(opts.policy ? { policies: opts.policy } : {}),
          ...(opts.sweep ? { sweep: parseSweep(opts.sweep) } : {}),
          ...(opts.changePoint ? { changePoints: opts.changePoint } : {}),
          ...(opts.out
            ? { outPath: opts.out }
            : {
                onDecision: (line: string) => {
                  bar?.done();
                  process.stdout.write(`${line}\n`);
                },
              }),
          ...(opts.quarantineOut ? { quarantineOutPath: opts.quarantineOut } : {}),
          ...(opts.chaos ? { chaos: { seed: opts.seed } } : {}),
          ...(opts.train ? { train: opts.train } : {}),
          ...(bar ? { onProgress: bar.update } : {}),
          // Only the report needs every decision in memory (they are streamed to the output anyway).
          keepDecisions: opts.report !== undefined,
        });
        bar?.done();
        const { summary } = result;
        for (const p of summary.problems)
          process.stderr.write(`replay: ${p.file}:${p.line}: quarantined ${p.reason} (${p.detail})\n`);
        const more = summary.ingest.quarantined - summary.problems.length;
        if (more > 0)
          process.stderr.write(
            `replay: ... and ${more} more quarantined lines${opts.quarantineOut ? ` (all in ${opts.quarantineOut})` : " (--quarantine-out lists them all)"}\n`,
          );
        process.stderr.write(`${formatPolicyTable(summary.policies, summary.changePoints)}\n`);
        const policyOf = (p: string) => (summary.policies.length > 1 ? ` policy ${p}:` : "");
        for (const r of summary.counterfactual?.retrains ?? [])
          process.stderr.write(
            `replay: --train local:${policyOf(r.policy)} ${r.modelId} at ${r.at}: ${r.outcome} (${r.detail})\n`,
          );
        for (const v of summary.counterfactual?.served ?? [])
          process.stderr.write(
            `replay: --train local:${policyOf(v.policy)} ${v.modelId} ${v.version} (from ${v.from}): accuracy ${v.accuracy ?? "n/a"} on ${v.labelled} labels\n`,
          );
        if (opts.report) await writeReplayReport(opts.report, result);
        process.stdout.write(`${JSON.stringify({ summary })}\n`);
      } catch (err) {
        bar?.done();
        if (
          !(err instanceof EventLogError || err instanceof ConfigError || err instanceof ReplayOptionsError)
        )
          throw err;
        process.stderr.write(`replay: ${err.message}\n`);
        process.exit(2);
      }
    });
}
