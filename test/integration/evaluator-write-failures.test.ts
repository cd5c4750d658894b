/**
 * The evaluator's slot is idempotent when one of its writes fails, before it reaches DynamoDB or after it
 * committed with the answer lost (dynalite, the real state repository). For each write of a retrain
 * decision (lease, decision record, history entry, retrain start, ledger, notified flag) the first
 * attempt meets the failure, the scheduler retries the slot, and afterwards the model has exactly one
 * decision and one history entry for the slot, one run started under its lease, one recorded retrain
 * start (the retrain budget and cooldown read it) and one alert.
 */
import type { DynamoDBClient, PutItemCommandInput, UpdateItemCommandInput } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { executionName } from "../../contracts/workflow";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { evaluateSlot } from "../../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel } from "../../lambdas/app/evaluate/evaluator";
import { QueueingWorkflowStarter, RecordingNotifier } from "../../local/control-plane";
import { type Emulators, startEmulators } from "../../local/emulators";
import { LostAnswerError } from "../support/lost-answers";
import { FEATURES, NORMAL_WORLD, Simulation, simulationStats, T0 } from "../support/simulation";

const shiftAt = T0 + 2 * DAY;
const SLOT = shiftAt + 3 * HOUR;

type Input = Partial<PutItemCommandInput & UpdateItemCommandInput>;
/** Which write of the slot fails, and how. */
interface Injection {
  readonly write: string;
  readonly match: (command: string, input: Input) => boolean;
  /** before: never reaches DynamoDB; lost: commits, the caller gets an error; sdk: commits, the SDK retries it. */
  readonly mode: "before" | "lost" | "sdk";
}

const update = (fragment: string) => (command: string, input: Input) =>
  command === "UpdateItemCommand" && (input.UpdateExpression ?? "").includes(fragment);
const decisionPut = (history: boolean) => (command: string, input: Input) =>
  command === "PutItemCommand" &&
  (input.Item?.pk?.S ?? "").endsWith("#DECISION") &&
  (input.Item?.sk?.S ?? "").startsWith("H#") === history;

const WRITES = {
  lease: update("leaseOwner = :owner"),
  decision: decisionPut(false),
  history: decisionPut(true),
  retrainStart: update("retrainStarts"),
  ledger: update("labelLedger"),
  notified: update("SET notified"),
};

const CASES: Injection[] = [
  { write: "lease", match: WRITES.lease, mode: "lost" },
  { write: "decision", match: WRITES.decision, mode: "before" },
  { write: "decision", match: WRITES.decision, mode: "lost" },
  { write: "decision", match: WRITES.decision, mode: "sdk" },
  { write: "history", match: WRITES.history, mode: "before" },
  { write: "retrainStart", match: WRITES.retrainStart, mode: "before" },
  { write: "retrainStart", match: WRITES.retrainStart, mode: "lost" },
  { write: "ledger", match: WRITES.ledger, mode: "before" },
  { write: "notified", match: WRITES.notified, mode: "lost" },
];

let emulators: Emulators;
let client: DynamoDBClient;
let sim: Simulation;
/** The pending injection; consumed by the first matching request. */
let pending: Injection | undefined;

/** Injects `pending` at `placement`: outside the SDK's retries (the caller sees the error) or inside. */
function injector(placement: "caller" | "sdk") {
  return (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const p = pending;
      const command = context.commandName ?? "";
      if (
        !p ||
        (p.mode === "sdk") !== (placement === "sdk") ||
        !p.match(command, (args as { input: Input }).input)
      )
        return next(args);
      pending = undefined;
      if (p.mode === "before")
        throw Object.assign(new Error(`${command}: throttled (injected)`), { name: "ThrottlingException" });
      await next(args);
      throw new LostAnswerError(command);
    };
}

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  client = emulators.createDynamoDbClient();
  client.middlewareStack.add(injector("caller") as never, { step: "initialize", name: "injectCaller" });
  client.middlewareStack.add(injector("sdk") as never, {
    step: "deserialize",
    name: "injectSdk",
    priority: "low",
  });
  sim = new Simulation({
    policy: {},
    world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
  });
  sim.generateUntil(SLOT + HOUR);
});
afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

const modelOf = (id: string): EvaluatedModel => ({
  id,
  task: "binary",
  classes: ["0", "1"],
  labelHorizonHours: 168,
  bucketMinutes: 60,
  features: FEATURES.map((f) => ({ ...f })),
  policy: parsePolicy({
    windowHours: 4,
    referenceWindowHours: 24,
    signals: { drift: { features: { season: { ignore: true } } } },
    stability: { persistence: { m: 1, n: 1 } },
  }),
});

describe("evaluator slot: a failed or lost write, then the scheduler's retry (dynalite)", () => {
  it.each(CASES.map((c, i) => ({ ...c, id: `m${i}-${c.write}-${c.mode}`.toLowerCase() })))(
    "$write write, $mode: one decision, one history entry, one run, one recorded start, one alert",
    async (injection) => {
      const repo = new DynamoDbModelStateRepository({ client, tableName: emulators.tableName });
      const notifier = new RecordingNotifier(Date.now);
      const sfn = new QueueingWorkflowStarter();
      // The statistics come from the simulation's hourly buckets: the failures under test are in the state.
      const deps = {
        models: [modelOf(injection.id)],
        stats: simulationStats(sim),
        state: repo,
        notifier,
        workflow: sfn,
      };
      const time = new Date(SLOT).toISOString();

      pending = injection;
      const first = await evaluateSlot(deps, { time });
      expect(pending, "the injected failure happened").toBeUndefined();
      // The scheduler retries a slot whose invocation failed (and a retry of a healthy slot is harmless).
      const second = await evaluateSlot(deps, { time });
      expect(second.models[0]!.error).toBeUndefined();
      if (injection.mode !== "sdk") expect(first.models[0]!.error).toEqual(expect.any(String));

      const name = executionName(injection.id, SLOT);
      const recorded = await repo.getDecision(injection.id, SLOT);
      expect(recorded).toMatchObject({ notified: true, executionName: name });
      expect(recorded?.decision.action).toBe("retrain");
      const history = await repo.listHistory(injection.id, SLOT - DAY, SLOT + DAY);
      expect(history.map((h) => h.evaluatedAt)).toEqual([SLOT]);
      expect(sfn.queue.map((s) => s.name)).toEqual([name]);
      expect(notifier.sent).toHaveLength(1);
      const state = await repo.getState(injection.id);
      expect(state.retrainStarts).toEqual([SLOT]);
      expect(state.lastRetrainAt).toBe(SLOT);
      expect(state.lease?.owner).toBe(name);
    },
  );
});
