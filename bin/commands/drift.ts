/**
 * `drift --reference ref.jsonl --current cur.jsonl [--bins N]`: compare two files of schema-v1 prediction
 * events and print the drift of every feature as one JSON object. It builds profiles with the same code the
 * ingest Lambda uses (addPrediction) and compares them with the same code the evaluator uses (compareProfiles),
 * so a number printed here is the number a trigger would see.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Command, InvalidArgumentError } from "commander";
import type { FeatureValue } from "../../contracts/events";
import type { FeatureKind } from "../../contracts/model";
import { compareProfiles, type FeatureDrift } from "../../lambdas/domain/stats/drift";
import { emptyProfile, type Profile } from "../../lambdas/domain/stats/profile";
import { addPrediction } from "../../lambdas/domain/stats/profile-update";

/** Bad input (unreadable file, malformed line): reported with file and line, exit code 2. */
export class DriftInputFileError extends Error {
  override name = "DriftInputFileError";
}

interface ParsedEvent {
  features: Record<string, FeatureValue>;
  prediction: number | string;
  score?: number;
}

function isFeatureValue(v: unknown): v is FeatureValue {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}

/** Parse one line into a prediction event, or explain why it is not one. Label events are skipped. */
function parseLine(line: string): ParsedEvent | "skip" | string {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const e = doc as Record<string, unknown>;
  if (e.type === "label") return "skip";
  if (e.type !== "prediction") return `"type" must be "prediction" or "label", got ${JSON.stringify(e.type)}`;
  if (e.schemaVersion !== 1)
    return `unsupported "schemaVersion" ${JSON.stringify(e.schemaVersion)} (expected 1)`;
  const features = e.features;
  if (typeof features !== "object" || features === null || Array.isArray(features)) {
    return `"features" must be an object`;
  }
  for (const [name, v] of Object.entries(features)) {
    if (!isFeatureValue(v)) return `feature "${name}" must be a finite number, string, boolean or null`;
  }
  const prediction = e.prediction;
  if (typeof prediction !== "number" && typeof prediction !== "string") {
    return `"prediction" must be a number or a string`;
  }
  const out: ParsedEvent = { features: features as Record<string, FeatureValue>, prediction };
  if (typeof e.score === "number") out.score = e.score;
  return out;
}

/** Read a JSONL file of prediction events; the first bad line throws an error naming file and line. */
export async function readEvents(path: string): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = [];
  const stream = createReadStream(path, { encoding: "utf8" });
  const failure = new Promise<never>((_, reject) => {
    stream.on("error", (err) =>
      reject(new DriftInputFileError(`${path}: cannot read file (${err.message})`)),
    );
  });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const read = (async () => {
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      const parsed = parseLine(line);
      if (parsed === "skip") continue;
      if (typeof parsed === "string") throw new DriftInputFileError(`${path}:${lineNo}: ${parsed}`);
      events.push(parsed);
    }
    return events;
  })();
  return Promise.race([read, failure]);
}

/** A feature is numeric if every value in both files is a number or null, categorical otherwise. */
export function inferKinds(...sets: ParsedEvent[][]): Record<string, FeatureKind> {
  const kinds: Record<string, FeatureKind> = {};
  for (const events of sets) {
    for (const e of events) {
      for (const [name, v] of Object.entries(e.features)) {
        if (v === null) kinds[name] ??= "numeric";
        else if (typeof v === "number") kinds[name] ??= "numeric";
        else kinds[name] = "categorical";
      }
    }
  }
  return Object.fromEntries(
    Object.keys(kinds)
      .sort()
      .map((k) => [k, kinds[k]!]),
  );
}

function profileOf(events: ParsedEvent[], features: Record<string, FeatureKind>): Profile {
  const p = emptyProfile({ task: "multiclass", features });
  for (const e of events) addPrediction(p, e);
  return p;
}

/** The command's work, without printing: drift of every feature between the two files. */
export async function computeDrift(opts: {
  reference: string;
  current: string;
  bins?: number;
}): Promise<{ features: Record<string, FeatureDrift> }> {
  const [ref, cur] = await Promise.all([readEvents(opts.reference), readEvents(opts.current)]);
  const kinds = inferKinds(ref, cur);
  const features = compareProfiles(
    profileOf(ref, kinds),
    profileOf(cur, kinds),
    opts.bins === undefined ? {} : { bins: opts.bins },
  );
  return { features };
}

function parseBins(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2 || n > 1000)
    throw new InvalidArgumentError("must be an integer from 2 to 1000");
  return n;
}

export function driftCommand(): Command {
  return new Command("drift")
    .description(
      "Compare two JSONL files of schema-v1 prediction events and print per-feature drift " +
        "(ks, ksPValue, wasserstein, wassersteinNormalized, psi, jensenShannon; chiSquared, lInfinity, ... for categories) as JSON.",
    )
    .requiredOption("--reference <file>", "reference (baseline) events, one JSON object per line")
    .requiredOption("--current <file>", "current events, one JSON object per line")
    .option("--bins <n>", "reference-quantile bins for numeric psi and jensenShannon", parseBins, 10)
    .action(async (opts: { reference: string; current: string; bins: number }) => {
      try {
        const result = await computeDrift(opts);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } catch (err) {
        if (!(err instanceof DriftInputFileError)) throw err;
        process.stderr.write(`drift: ${err.message}\n`);
        process.exit(2);
      }
    });
}
