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
import { executionName } from "../../contracts/workflow";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { evaluateSlot } from "../../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel } from "../../lambdas/app/evaluate/evaluator";
import { mergeProfiles } from "../../lambdas/domain/stats/profile-merge";
import type { Notification, Notifier } from "../../lambdas/ports/notifier";
import type { StatsRepository, WindowStats } from "../../lambdas/ports/stats-repository";
import type {
  WorkflowStart,
  WorkflowStarter,
  WorkflowStartResult,
} from "../../lambdas/ports/workflow-starter";
import { type Emulators, startEmulators } from "../../local/emulators";
import { DAY, FEATURES, HOUR, NORMAL_WORLD, Simulation, T0 } from "../scenarios/harness";
import { LostAnswerError } from "../support/lost-answers";

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

class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  async publish(n: Notification) {
    this.sent.push(n);
    return { messageId: String(this.sent.length) };
  }
}

class FakeStepFunctions implements WorkflowStarter {
  readonly executions = new Map<string, WorkflowStart>();
  async start(request: WorkflowStart): Promise<WorkflowStartResult> {
    const arn = `arn:aws:states:us-east-1:1:execution:retrain:${request.name}`;
    if (this.executions.has(request.name)) return { executionArn: arn, alreadyStarted: true };
    this.executions.set(request.name, request);
    return { executionArn: arn, alreadyStarted: false };
  }
}

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

/** StatsRepository over the simulation's hourly buckets (the failures under test are in the state). */
const stats: StatsRepository = {
  async readWindow(modelId, fromMs, toMs): Promise<WindowStats> {
    const buckets = [...sim.buckets.values()]
      .filter((b) => b.bucketStart >= fromMs && b.bucketStart < toMs)
      .sort((a, b) => a.bucketStart - b.bucketStart)
      .map((b) => ({
        bucketStart: b.bucketStart,
        profile: b.profile,
        received: b.received ?? 0,
        quarantined: {},
        shards: 1,
      }));
    const profile = buckets.length === 0 ? undefined : buckets.map((b) => b.profile).reduce(mergeProfiles);
    return { modelId, fromMs, toMs, profile, received: 0, quarantined: {}, buckets };
  },
};

const modelOf = (id: string): EvaluatedModel => ({
  id,
  task: "binary",
  classes: ["0", "1"],
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
      const notifier = new RecordingNotifier();
      const sfn = new FakeStepFunctions();
      const deps = { models: [modelOf(injection.id)], stats, state: repo, notifier, workflow: sfn };
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
      expect([...sfn.executions.keys()]).toEqual([name]);
      expect(notifier.sent).toHaveLength(1);
      const state = await repo.getState(injection.id);
      expect(state.retrainStarts).toEqual([SLOT]);
      expect(state.lastRetrainAt).toBe(SLOT);
      expect(state.lease?.owner).toBe(name);
    },
  );
});
