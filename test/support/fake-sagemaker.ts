/**
 * In-memory stand-ins for the SageMaker and SNS task states of the retraining workflow, as
 * aws-local-stepfunctions `taskResourceLocalHandlers`. They take the state's resolved Parameters (the
 * API request) and return what the service integration returns (the API response, PascalCase). Shared by
 * the state machine runs of test/workflow and test/integration.
 */

import { APPROVAL_REJECTED_ERROR, STATE } from "../../contracts/workflow";
import type { EndpointInfo } from "../../lambdas/ports/model-hosting";
import type { ObjectStore } from "../../lambdas/ports/object-store";

/** How a model scores one holdout row. */
export type Scorer = "good" | "bad" | "champion";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Scores of one holdout row (labels follow x; plan is noise). `good`: sharp in x, the challenger that
 * should pass. `bad`: the ranking reversed. `champion`: the live model, softer in x and pushed around by
 * plan, so it is clearly worse (lower AUC) yet ranks the holdout much like `good` does: the happy path
 * passes on the paired AUC test and the rank-agreement guardrail, not by accident.
 */
function score(scorer: Scorer, features: Record<string, unknown>): number {
  const x = Number(features.x ?? 0);
  if (scorer === "good") return sigmoid(10 * (x - 0.5));
  if (scorer === "bad") return 1 - sigmoid(10 * (x - 0.5));
  return sigmoid(4 * (x - 0.5) + (features.plan === "pro" ? 0.8 : -0.8));
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

export interface Scenario {
  challenger?: Scorer;
  /** Training ends in Failed with this reason (Step Functions: States.TaskFailed, Cause = DescribeTrainingJob). */
  trainingFailure?: string;
  /** Blue/green outcome after the polls: in service, rolled back by an alarm, or failed. */
  deploy?: "ok" | "rollback" | "failed";
  /** States whose first call fails with a throttling error. */
  throttleOnce?: string[];
  approval?: "approve" | "reject" | "ignore";
}

/**
 * The fields of the SageMaker and SNS task inputs (the states' resolved `Parameters`) that the fake and
 * the tests read. One shape for all states: each call carries only its own state's subset.
 */
export interface TaskInput {
  TrainingJobName: string;
  HyperParameters: Record<string, string>;
  StoppingCondition: { MaxRuntimeInSeconds: number };
  AlgorithmSpecification: { TrainingImage: string };
  OutputDataConfig: { S3OutputPath: string };
  ModelName: string;
  PrimaryContainer: { ModelDataUrl: string };
  TransformJobName: string;
  TransformInput: { DataSource: { S3DataSource: { S3Uri: string } } };
  TransformOutput: { S3OutputPath: string };
  EndpointConfigName: string;
  ProductionVariants: { VariantName: string; ModelName: string }[];
  EndpointName: string;
  DeploymentConfig: {
    BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: string } };
    AutoRollbackConfiguration: { Alarms: { AlarmName: string }[] };
  };
  Subject: string;
  Message: string;
  MessageAttributes?: { severity?: { StringValue?: string } };
}

export class FakeSageMaker {
  readonly endpoints = new Map<string, EndpointInfo>();
  readonly models = new Map<string, Scorer>();
  readonly artifacts = new Map<string, Scorer>();
  readonly calls: { state: string; input: TaskInput }[] = [];
  readonly published: { state: string; subject: string; message: string; severity?: string }[] = [];
  private polls = 0;
  private pendingConfig: string | undefined;
  /** Variant name of every endpoint config created, by config name. */
  private readonly configVariants = new Map<string, string>();
  private throttled = new Set<string>();

  constructor(
    private readonly objects: ObjectStore,
    private readonly scenario: Scenario,
  ) {}

  /** Retry attempts observed per state (first call + retries). */
  callCount(state: string): number {
    return this.calls.filter((c) => c.state === state).length;
  }

  private record(state: string, input: unknown): TaskInput {
    const i = input as TaskInput;
    this.calls.push({ state, input: i });
    if (this.scenario.throttleOnce?.includes(state) && !this.throttled.has(state)) {
      this.throttled.add(state);
      throw named("SageMaker.AmazonSageMakerException", "ThrottlingException: Rate exceeded");
    }
    return i;
  }

  private transform(state: string) {
    return async (input: unknown) => {
      const p = this.record(state, input);
      const scorer = this.models.get(p.ModelName);
      if (!scorer) throw named("SageMaker.AmazonSageMakerException", `Could not find model ${p.ModelName}`);
      const inUri: string = p.TransformInput.DataSource.S3DataSource.S3Uri;
      const outUri: string = p.TransformOutput.S3OutputPath;
      for (const uri of await this.objects.list(inUri)) {
        const lines = (await this.objects.getText(uri)).split("\n").filter((l) => l.trim() !== "");
        const out = lines.map((l) => {
          const s = score(scorer, (JSON.parse(l) as { features: Record<string, unknown> }).features);
          return JSON.stringify({ prediction: s >= 0.5 ? 1 : 0, score: s });
        });
        const file = uri.slice(uri.lastIndexOf("/") + 1);
        await this.objects.putText(`${outUri.replace(/\/?$/, "/")}${file}.out`, `${out.join("\n")}\n`);
      }
      return {
        TransformJobName: p.TransformJobName,
        TransformJobStatus: "Completed",
        TransformOutput: { S3OutputPath: outUri },
      };
    };
  }

  private publish(state: string) {
    return async (input: unknown) => {
      const p = this.record(state, input);
      this.published.push({
        state,
        subject: p.Subject,
        message: p.Message,
        severity: p.MessageAttributes?.severity?.StringValue,
      });
      return { MessageId: `msg-${this.published.length}` };
    };
  }

  // biome-ignore lint/suspicious/noExplicitAny: the interpreter's handler type is JSONValue -> JSONValue
  overrides(): Record<string, (input: any) => Promise<any>> {
    return {
      [STATE.trainChallenger]: async (input) => {
        const p = this.record(STATE.trainChallenger, input);
        if (this.scenario.trainingFailure) {
          const cause = JSON.stringify({
            TrainingJobName: p.TrainingJobName,
            TrainingJobStatus: "Failed",
            FailureReason: this.scenario.trainingFailure,
          });
          throw named("States.TaskFailed", cause);
        }
        const artifact = `${p.OutputDataConfig.S3OutputPath}${p.TrainingJobName}/output/model.tar.gz`;
        this.artifacts.set(artifact, this.scenario.challenger ?? "good");
        return {
          TrainingJobName: p.TrainingJobName,
          TrainingJobStatus: "Completed",
          ModelArtifacts: { S3ModelArtifacts: artifact },
          HyperParameters: p.HyperParameters,
        };
      },
      [STATE.createChallengerModel]: async (input) => {
        const p = this.record(STATE.createChallengerModel, input);
        this.models.set(p.ModelName, this.artifacts.get(p.PrimaryContainer.ModelDataUrl) ?? "bad");
        return { ModelArn: `arn:aws:sagemaker:eu-west-1:123456789012:model/${p.ModelName}` };
      },
      [STATE.scoreChallenger]: this.transform(STATE.scoreChallenger),
      [STATE.scoreChampion]: this.transform(STATE.scoreChampion),
      [STATE.createEndpointConfig]: async (input) => {
        const p = this.record(STATE.createEndpointConfig, input);
        this.configVariants.set(p.EndpointConfigName, p.ProductionVariants[0]!.VariantName);
        return {
          EndpointConfigArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/${p.EndpointConfigName}`,
        };
      },
      [STATE.createEndpoint]: async (input) => {
        const p = this.record(STATE.createEndpoint, input);
        this.endpoints.set(p.EndpointName, { exists: true, status: "Creating" });
        this.pendingConfig = p.EndpointConfigName;
        return { EndpointArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${p.EndpointName}` };
      },
      [STATE.updateEndpoint]: async (input) => {
        const p = this.record(STATE.updateEndpoint, input);
        const ep = this.endpoints.get(p.EndpointName)!;
        // As SageMaker: a blue/green update keeps the live config's variant name.
        const variant = this.configVariants.get(p.EndpointConfigName);
        if (ep.variantNames && variant !== undefined && !ep.variantNames.includes(variant))
          throw named("SageMaker.ValidationException", `variant ${variant} is not the endpoint's variant`);
        this.endpoints.set(p.EndpointName, { ...ep, status: "Updating" });
        this.pendingConfig = p.EndpointConfigName;
        return { EndpointArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${p.EndpointName}` };
      },
      [STATE.describeEndpoint]: async (input) => {
        const p = this.record(STATE.describeEndpoint, input);
        const ep = this.endpoints.get(p.EndpointName)!;
        this.polls++;
        if (this.polls >= 3 && ["Updating", "Creating", "RollingBack"].includes(ep.status ?? "")) {
          const outcome = this.scenario.deploy ?? "ok";
          if (outcome === "ok") {
            const variant = this.configVariants.get(this.pendingConfig!);
            this.endpoints.set(p.EndpointName, {
              exists: true,
              status: "InService",
              configName: this.pendingConfig!,
              ...(variant !== undefined ? { variantNames: [variant] } : {}),
            });
          } else if (outcome === "rollback")
            this.endpoints.set(p.EndpointName, { ...ep, status: "InService" });
          else
            this.endpoints.set(p.EndpointName, {
              ...ep,
              status: "Failed",
              failureReason: "new fleet failed health checks",
            });
        } else if (this.polls === 2 && this.scenario.deploy === "rollback") {
          this.endpoints.set(p.EndpointName, { ...ep, status: "RollingBack" });
        }
        const now = this.endpoints.get(p.EndpointName)!;
        return {
          EndpointName: p.EndpointName,
          EndpointStatus: now.status,
          EndpointConfigName: now.configName ?? this.pendingConfig,
        };
      },
      [STATE.requestApproval]: async (input) => {
        const p = this.record(STATE.requestApproval, input);
        this.published.push({ state: STATE.requestApproval, subject: p.Subject, message: p.Message });
        if (this.scenario.approval === "approve") return { approved: true, by: "alice" };
        if (this.scenario.approval === "reject")
          throw named(APPROVAL_REJECTED_ERROR, "metrics look suspicious");
        return new Promise(() => {});
      },
      [STATE.notifySuccess]: this.publish(STATE.notifySuccess),
      [STATE.notifyFailure]: this.publish(STATE.notifyFailure),
      [STATE.notifyFailureFallback]: this.publish(STATE.notifyFailureFallback),
    };
  }
}
