/**
 * `npm run local`: the whole system end to end on one machine, no AWS account.
 *
 * dynalite + kinesalite in process; a SIMULATED inference service serving a REAL local model and
 * emitting schema-v1 events with PutRecords; the ESM stand-in invoking the REAL ingest handler; a
 * simulated clock firing the REAL evaluate handler on the configured schedule; retrains run the
 * SYNTHESIZED state machine definition in aws-local-stepfunctions, with SageMaker tasks overridden by
 * the local trainer/endpoint (SIMULATED SageMaker) and Lambda tasks calling the REAL workflow task
 * handlers with local clients. Events also go to the Firehose -> S3 archive stand-in, which is what
 * the workflow trains on.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { DeploymentConfig } from "../contracts/config";
import { DAY_MS } from "../contracts/time";
import { LocalArchive } from "./archive";
import { ScheduleTimer, SimulatedClock } from "./clock";
import { ControlPlane, type EvaluationOutcome, type WorkflowRunRecord } from "./control-plane";
import { InferenceService } from "./inference-service";
import { MemoryObjectStore } from "./object-store";
import { LocalPipeline } from "./pipeline";
import { SeededRandom } from "./prng";
import {
  type Action,
  type DecisionMark,
  type EventMark,
  formatSummaryTable,
  type Point,
  type ReportData,
  type RunSummary,
  renderReport,
  type Series,
} from "./report";
import { LocalSageMaker } from "./sagemaker";
import { LOCAL_ARCHIVE_BUCKET, scenarioConfig, scenarioConfigInput } from "./scenario-config";
import { createScenario, type Scenario } from "./scenarios";
import { trainLogisticRegression } from "./trainer";
import { createWorkflowRunner } from "./workflow";

export interface LocalRunOptions {
  /** Scenario name (see SCENARIOS) or a scenario object. @default "drift" */
  readonly scenario?: string | Scenario;
  readonly days?: number;
  readonly eventsPerDay?: number;
  readonly seed?: number;
  /** Directory for report.html, decisions.jsonl, summary.json, config.json and the archive. @default "out/local" */
  readonly outDir?: string;
  /** Show a progress bar. @default stderr is a TTY and CI is not set */
  readonly progress?: boolean;
  /** Also write the archive (S3 stand-in) to `<outDir>/s3/`. @default false */
  readonly writeArchive?: boolean;
  /** Where progress notes go. @default nothing */
  readonly log?: (line: string) => void;
}

export interface LocalRunResult {
  readonly scenario: Scenario;
  readonly config: DeploymentConfig;
  readonly summary: RunSummary;
  readonly reportPath: string;
  readonly decisions: readonly EvaluationOutcome[];
  readonly deployments: ReadonlyArray<{ at: number; version: string }>;
  readonly dailyAccuracy: ReadonlyArray<{ day: number; accuracy: number | undefined; predictions: number }>;
  /** Retraining executions (state machine runs) and how they ended. */
  readonly workflowRuns: readonly WorkflowRunRecord[];
  /** Wall milliseconds per phase (setup, simulate+put, ingest drain, evaluation incl. workflows, report). */
  readonly phases: Readonly<Record<string, number>>;
}

/**
 * Labelled examples of the week before the run, at times drawn in proportion to the scenario's traffic
 * (rejection sampling), as the archive of a live service would hold them: a baseline built from
 * uniformly-timed samples would differ from any traffic-weighted day when features are seasonal.
 */
export function historicalSample(scenario: Scenario, rng: SeededRandom, from: number, to: number) {
  let peak = 0;
  for (let t = from; t < to; t += DAY_MS / 96) peak = Math.max(peak, scenario.traffic(t));
  const rows = [];
  while (rows.length < scenario.initialTrainingExamples) {
    const t = Math.floor(rng.uniform(from, to));
    if (rng.next() * peak <= scenario.traffic(t)) rows.push(scenario.generator.sample(t, rng));
  }
  return rows;
}

/** Decides whether a progress bar makes sense: an interactive terminal outside CI. */
export function progressWanted(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI;
}

const mean = (xs: ReadonlyArray<{ predictions: number; correct: number }>): number | undefined => {
  const n = xs.reduce((s, d) => s + d.predictions, 0);
  return n === 0 ? undefined : xs.reduce((s, d) => s + d.correct, 0) / n;
};

export async function runLocal(options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const wallStart = performance.now();
  const phases: Record<string, number> = { setup: 0, emit: 0, put: 0, ingest: 0, evaluate: 0, report: 0 };
  const timed = async <T>(phase: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      phases[phase] = (phases[phase] ?? 0) + performance.now() - t0;
    }
  };
  const scenario =
    typeof options.scenario === "object"
      ? options.scenario
      : createScenario(options.scenario ?? "drift", {
          ...(options.days !== undefined ? { days: options.days } : {}),
          ...(options.eventsPerDay !== undefined ? { eventsPerDay: options.eventsPerDay } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        });
  const config = scenarioConfig(scenario);
  const model = config.models[0]!;
  const outDir = resolve(options.outDir ?? "out/local");
  const log = options.log ?? (() => undefined);
  const clock = new SimulatedClock(scenario.start);
  const objects = new MemoryObjectStore();
  const archive = new LocalArchive(objects, LOCAL_ARCHIVE_BUCKET);
  const sagemaker = new LocalSageMaker(objects, () => scenario.features, clock.nowFn);
  const endpointName = model.deployment.endpointName ?? model.id;

  // The initial champion: trained (for real) on a labelled sample drawn before the run starts.
  const rng = new SeededRandom(scenario.seed);
  const trainFrom = scenario.start - 7 * DAY_MS;
  const initialRows = historicalSample(scenario, rng, trainFrom, scenario.start);
  const initial = trainLogisticRegression(initialRows, scenario.features, {
    version: `${model.id}-initial`,
    trainedAt: scenario.start,
    steps: 200,
  });
  sagemaker.bootstrap(endpointName, initial.version, initial, model.deployment.variantName);

  const pipeline = await LocalPipeline.start({ config });
  const bar =
    (options.progress ?? progressWanted())
      ? new SingleBar({
          format: "simulating {bar} {percentage}% | day {value}/{total} | {status}",
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        })
      : undefined;
  try {
    let control: ControlPlane | undefined;
    const workflow = await createWorkflowRunner({
      config,
      objects,
      sagemaker,
      clock,
      archiveBucket: LOCAL_ARCHIVE_BUCKET,
      control: () => control!,
    });
    control = new ControlPlane({ config, pipeline, clock }, workflow.run);
    await workflow.seedChampion(initial, initialRows, scenario.start);
    const service = new InferenceService(scenario, sagemaker.endpoint(endpointName));
    const timer = new ScheduleTimer(config.schedule.expression, scenario.start);
    const end = scenario.start + scenario.days * DAY_MS;
    phases.setup = performance.now() - wallStart;
    bar?.start(scenario.days, 0, { status: "starting" });
    let t = scenario.start;
    const outcomes: EvaluationOutcome[] = [];
    while (t < end) {
      const next = Math.min(timer.peek(), end);
      const slice = await timed("emit", () => {
        const s = service.emit(t, next);
        for (const r of s.records) archive.deliver([r.data], r.arrivalMs);
        return s;
      });
      await timed("put", () => pipeline.send(slice.records));
      await timed("ingest", () => pipeline.drain());
      clock.advanceTo(next);
      for (const fire of timer.due(next)) {
        const outcome = await timed("evaluate", () => control.evaluate(fire));
        outcomes.push(...outcome);
        for (const o of outcome)
          if (o.action !== "none") log(`${new Date(fire).toISOString()} ${o.modelId}: ${o.action}`);
      }
      t = next;
      const status = `${outcomes.filter((o) => o.action === "retrain").length} retrains, ${sagemaker.endpoint(endpointName).deployments.length - 1} deploys`;
      bar?.update(Math.floor((t - scenario.start) / DAY_MS), { status });
    }
    bar?.update(scenario.days, { status: "done" });
    bar?.stop();

    const totals = await pipeline.totals();
    const endpoint = sagemaker.endpoint(endpointName);
    const deployments = endpoint.deployments.slice(1).map((d) => ({ at: d.at, version: d.version }));
    const days = service.days;
    const dayOf = (ms: number) => Math.floor((ms - scenario.start) / DAY_MS);
    const driftMarkers = scenario.markers.filter((m) => m.kind === "drift");
    const firstDrift = driftMarkers[0]?.at;
    const secondDrift = driftMarkers[1]?.at;
    const firstDeployAfterDrift =
      firstDrift === undefined ? undefined : deployments.find((d) => d.at >= firstDrift);
    const slice = (fromMs: number, toMs: number) =>
      days.slice(Math.max(0, dayOf(fromMs)), Math.max(0, dayOf(toMs)));
    const summary: RunSummary = {
      scenario: scenario.name,
      simulatedDays: scenario.days,
      events: pipeline.put,
      predictions: service.totals.predictions,
      labels: service.totals.labels,
      malformedSent: service.totals.malformed,
      aggregated: totals.aggregated,
      quarantined: totals.quarantined,
      evaluations: outcomes.length,
      alerts: outcomes.filter((o) => o.action === "alert").length,
      retrains: outcomes.filter((o) => o.action === "retrain").length,
      deploys: deployments.length,
      rejectedWorkflows: control.workflowRuns.filter((r) => r.status === "REJECTED").length,
      failedWorkflows: control.workflowRuns.filter((r) => r.status === "FAILED").length,
      accuracyBeforeDrift: firstDrift === undefined ? mean(days) : mean(slice(scenario.start, firstDrift)),
      accuracyAfterDrift:
        firstDrift === undefined
          ? undefined
          : mean(slice(firstDrift, firstDeployAfterDrift ? firstDeployAfterDrift.at : end)),
      accuracyAfterRetrain: firstDeployAfterDrift
        ? mean(
            slice(
              firstDeployAfterDrift.at + DAY_MS,
              secondDrift && secondDrift > firstDeployAfterDrift.at ? secondDrift : end,
            ),
          )
        : undefined,
      wallSeconds: (performance.now() - wallStart) / 1000,
    };

    const reportStart = performance.now();
    const runNotes = control.workflowRuns.map(
      (r) =>
        `Retraining ${r.name} (day ${((r.startedAt - scenario.start) / DAY_MS).toFixed(1)}): ${r.status}: ${r.detail}`,
    );
    const report = buildReport(scenario, summary, outcomes, deployments, days, [
      ...workflow.notes,
      ...runNotes,
    ]);
    await mkdir(outDir, { recursive: true });
    const reportPath = join(outDir, "report.html");
    await writeFile(reportPath, renderReport(report));
    await writeFile(
      join(outDir, "decisions.jsonl"),
      `${outcomes.map((o) => JSON.stringify(o.line)).join("\n")}\n`,
    );
    await writeFile(
      join(outDir, "summary.json"),
      `${JSON.stringify({ ...summary, quarantinedByReason: totals.quarantinedByReason, workflowRuns: control.workflowRuns }, null, 2)}\n`,
    );
    // The run's deployment configuration, reusable as `replay --config`.
    await writeFile(
      join(outDir, "config.json"),
      `${JSON.stringify(scenarioConfigInput(scenario), null, 2)}\n`,
    );
    if (options.writeArchive) await objects.writeTo(join(outDir, "s3"));
    phases.report = performance.now() - reportStart;
    return {
      scenario,
      config,
      summary,
      reportPath,
      decisions: outcomes,
      deployments,
      workflowRuns: control.workflowRuns,
      phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])),
      dailyAccuracy: days.map((d, i) => ({
        day: i,
        accuracy: d.predictions ? d.correct / d.predictions : undefined,
        predictions: d.predictions,
      })),
    };
  } finally {
    bar?.stop();
    await pipeline.stop();
  }
}

function buildReport(
  scenario: Scenario,
  summary: RunSummary,
  outcomes: readonly EvaluationOutcome[],
  deployments: ReadonlyArray<{ at: number; version: string }>,
  days: ReadonlyArray<{ predictions: number; correct: number; labels: number; malformed: number }>,
  notes: readonly string[],
): ReportData {
  const series = (name: string, pick: (o: EvaluationOutcome) => number | null | undefined): Series => ({
    name,
    points: outcomes.flatMap((o) => {
      const v = pick(o);
      return v === null || v === undefined || !Number.isFinite(v) ? [] : [[o.evaluatedAt, v] as Point];
    }),
  });
  const dayMid = (i: number) => scenario.start + i * DAY_MS + DAY_MS / 2;
  const accuracy: Series[] = [
    {
      name: "true accuracy per day (simulation)",
      points: days.flatMap((d, i) =>
        d.predictions ? [[dayMid(i), d.correct / d.predictions] as Point] : [],
      ),
    },
    series("realized accuracy (labels in window)", (o) => o.realized),
    series("estimated accuracy (CBPE, no labels)", (o) => o.estimated),
  ];
  const featureScores = new Map<string, number>();
  for (const o of outcomes)
    for (const [f, v] of Object.entries(o.featureDrift))
      featureScores.set(f, Math.max(featureScores.get(f) ?? 0, v ?? 0));
  const top = [...featureScores.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([f]) => f);
  const drift = top.map((f) => series(f, (o) => o.featureDrift[f]));
  const volume: Series[] = [
    { name: "predictions", points: days.map((d, i) => [dayMid(i), d.predictions] as Point) },
    { name: "labels", points: days.map((d, i) => [dayMid(i), d.labels] as Point) },
    { name: "malformed sent", points: days.map((d, i) => [dayMid(i), d.malformed] as Point) },
  ];
  const decisions: DecisionMark[] = outcomes.map((o) => ({
    t: o.evaluatedAt,
    action: o.action as Action,
    reason: o.reason,
  }));
  const deploymentMarks: EventMark[] = deployments.map((d, i) => ({ t: d.at, label: `deploy #${i + 1}` }));
  return {
    title: `retrain-triggers local run: ${scenario.name}`,
    description: scenario.description,
    start: scenario.start,
    summary,
    accuracy,
    drift,
    driftMetric: outcomes[0]?.driftMetric ?? "drift score",
    volume,
    decisions,
    deployments: deploymentMarks,
    markers: scenario.markers.map((m) => ({ t: m.at, label: m.label })),
    notes: [
      "Local mode: dynalite and kinesalite in process; the ingest, evaluate and workflow-task handlers are the real ones.",
      "SIMULATED SageMaker: training is a real logistic regression (ml-logistic-regression) on the archived labelled events; the endpoint is in process and a deploy swaps its model at once.",
      "The Firehose -> S3 archive is an in-memory stand-in with the same key layout.",
      ...notes,
    ],
  };
}

/** Terminal output of a run: the summary table and where the report is. */
export function formatRunResult(result: LocalRunResult): string {
  return `${formatSummaryTable(result.summary)}\nreport: ${result.reportPath}\n`;
}
