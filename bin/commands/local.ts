/**
 * `local [--scenario <name>] [--days N] [--events-per-day N] [--seed N] [--out <dir>]`: the whole system
 * end to end on this machine, no AWS account (local/run-local.ts). Prints the summary table and the path
 * of the HTML report. `npm run local` runs it with the default drift scenario.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_SCENARIO, SCENARIOS, UnknownScenarioError } from "../../local/scenarios";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

export function localCommand(): Command {
  const scenarios = Object.entries(SCENARIOS)
    .map(([name, s]) => `  ${name.padEnd(20)} ${s.description}`)
    .join("\n");
  return new Command("local")
    .description(
      "Run the system end to end locally (dynalite, kinesalite, real handlers, synthesized workflow on " +
        "aws-local-stepfunctions, SIMULATED SageMaker) on a synthetic scenario; print a summary and write an HTML report.",
    )
    .addOption(
      new Option("--scenario <name>", "scenario to simulate")
        .choices(Object.keys(SCENARIOS))
        .default(DEFAULT_SCENARIO),
    )
    .option("--days <n>", "simulated days (default: the scenario's, at least 30)", positiveInt)
    .option("--events-per-day <n>", "mean prediction events per simulated day", positiveInt)
    .option("--seed <n>", "random seed of the scenario", positiveInt)
    .option("--out <dir>", "output directory for report.html, decisions.jsonl, summary.json", "out/local")
    .option("--write-archive", "also write the simulated S3 archive under <out>/s3", false)
    .option("--no-progress", "no progress bar (also off when stderr is not a TTY or CI=true)")
    .addHelpText("after", `\nScenarios:\n${scenarios}\n`)
    .action(
      async (opts: {
        scenario: string;
        days?: number;
        eventsPerDay?: number;
        seed?: number;
        out: string;
        writeArchive: boolean;
        progress: boolean;
      }) => {
        try {
          // Loaded here: the handlers it runs load Powertools' tracer, which hooks every promise of the process
          // (see local/replay-engines.ts); the other commands should not pay for it.
          const { formatRunResult, runLocal } = await import("../../local/run-local");
          const result = await runLocal({
            scenario: opts.scenario,
            outDir: opts.out,
            writeArchive: opts.writeArchive,
            ...(opts.progress === false ? { progress: false } : {}),
            ...(opts.days !== undefined ? { days: opts.days } : {}),
            ...(opts.eventsPerDay !== undefined ? { eventsPerDay: opts.eventsPerDay } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          });
          process.stdout.write(formatRunResult(result));
        } catch (err) {
          if (!(err instanceof UnknownScenarioError)) throw err;
          process.stderr.write(`local: ${err.message}\n`);
          process.exit(2);
        }
      },
    );
}
