/**
 * SIMULATED SageMaker for local mode. The retraining state machine's SageMaker Task states
 * (CreateTrainingJob.sync, CreateModel, CreateTransformJob.sync, CreateEndpointConfig, CreateEndpoint,
 * UpdateEndpoint, DescribeEndpoint) are overridden with these methods, which take the same parameters
 * and return the same fields the definition's ResultSelectors read. Training is REAL (logistic
 * regression, see trainer.ts) on the dataset the workflow's PrepareDataset task wrote; batch transform
 * really scores the holdout; endpoints are `LocalEndpoint`s. Nothing here calls AWS.
 */

import type { FeatureValue } from "../contracts/events";
import type { FeatureSpec } from "../contracts/model";
import type { ChallengerResources, EndpointInfo, ModelHosting } from "../lambdas/ports/model-hosting";
import { LocalEndpoint, predictWith } from "./endpoint";
import type { MemoryObjectStore } from "./object-store";
import { type LabelledExample, type ModelArtifact, trainLogisticRegression } from "./trainer";

/** Raised like the SageMaker API would (unknown resource, bad parameters). */
export class LocalSageMakerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = `SageMaker.${code}`;
  }
}

type Params = Record<string, unknown>;

const str = (v: unknown, what: string): string => {
  if (typeof v !== "string" || v === "")
    throw new LocalSageMakerError("ValidationException", `${what} is required`);
  return v;
};

const dig = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>(
    (x, k) => (x && typeof x === "object" ? (x as Record<string, unknown>)[k] : undefined),
    o,
  );

const joinUri = (prefix: string, rest: string) => `${prefix.replace(/\/+$/, "")}/${rest}`;

/** A record of what the simulated service did, for the report and tests. */
export interface SageMakerCall {
  readonly at: number;
  readonly action: string;
  readonly name: string;
  readonly detail?: string;
}

/** A simulated endpoint config: one production variant serving one model. */
interface LocalEndpointConfig {
  readonly modelName: string;
  readonly variantName: string;
}

/** The variant name SageMaker examples and this project's configuration default to. */
const DEFAULT_VARIANT = "AllTraffic";

export class LocalSageMaker implements ModelHosting {
  private readonly models = new Map<string, ModelArtifact>();
  private readonly endpointConfigs = new Map<string, LocalEndpointConfig>();
  private readonly endpoints = new Map<string, LocalEndpoint>();
  readonly calls: SageMakerCall[] = [];

  constructor(
    private readonly objects: MemoryObjectStore,
    /** Feature schema per model id, to encode training rows. */
    private readonly featuresOf: (modelId: string) => readonly FeatureSpec[],
    private readonly now: () => number,
  ) {}

  /** The endpoint object the simulated inference service calls (created on first use). */
  endpoint(name: string): LocalEndpoint {
    let e = this.endpoints.get(name);
    if (!e) {
      e = new LocalEndpoint(name);
      this.endpoints.set(name, e);
    }
    return e;
  }

  /**
   * Registers and deploys a model outside the workflow (the initial champion of a local run), on an
   * endpoint config named after the model with one variant `variantName`.
   */
  bootstrap(
    endpointName: string,
    modelName: string,
    artifact: ModelArtifact,
    variantName: string = DEFAULT_VARIANT,
  ): void {
    this.models.set(modelName, artifact);
    this.endpointConfigs.set(modelName, { modelName, variantName });
    this.endpoint(endpointName).deploy(artifact, this.now(), modelName);
  }

  /** A failed run's challenger: deleted like SageMaker does (what does not exist is skipped). */
  async deleteChallenger(resources: ChallengerResources): Promise<string[]> {
    const deleted: string[] = [];
    if (this.endpointConfigs.delete(resources.endpointConfig))
      deleted.push(`endpoint config ${resources.endpointConfig}`);
    if (this.models.delete(resources.model)) deleted.push(`model ${resources.model}`);
    for (const name of deleted)
      this.calls.push({ at: this.now(), action: "Delete", name, detail: "failed run's challenger" });
    return deleted;
  }

  private readRows(prefixUri: string): LabelledExample[] {
    const rows: LabelledExample[] = [];
    for (const uri of this.objects.listSync(prefixUri)) {
      for (const line of this.objects.getSync(uri).split("\n")) {
        if (line.trim() === "") continue;
        const row = JSON.parse(line) as { features: Record<string, FeatureValue>; label: number | string };
        rows.push({ features: row.features, label: row.label });
      }
    }
    return rows;
  }

  /** CreateTrainingJob (.sync): trains on the `train` channel, writes `<output>/<job>/output/model.json`. */
  async createTrainingJob(p: Params): Promise<Params> {
    const jobName = str(p.TrainingJobName, "TrainingJobName");
    const channels = (p.InputDataConfig as Params[] | undefined) ?? [];
    const train = channels.find((c) => c.ChannelName === "train");
    const trainUri = str(dig(train, "DataSource", "S3DataSource", "S3Uri"), "train channel S3Uri");
    const outputUri = str(dig(p, "OutputDataConfig", "S3OutputPath"), "OutputDataConfig.S3OutputPath");
    const modelId = String(
      ((p.Tags as Array<{ Key: string; Value: string }> | undefined) ?? []).find(
        (t) => t.Key === "retrain-triggers:model",
      )?.Value ?? "",
    );
    const rows = this.readRows(trainUri);
    const steps = Number(dig(p, "HyperParameters", "steps") ?? 300);
    const artifact = trainLogisticRegression(rows, this.featuresOf(modelId), {
      version: jobName,
      trainedAt: this.now(),
      steps: Number.isFinite(steps) && steps > 0 ? steps : 300,
    });
    const artifactUri = joinUri(outputUri, `${jobName}/output/model.json`);
    this.objects.putSync(artifactUri, JSON.stringify(artifact));
    this.calls.push({
      at: this.now(),
      action: "CreateTrainingJob",
      name: jobName,
      detail: `${rows.length} rows, train accuracy ${artifact.trainAccuracy.toFixed(3)}`,
    });
    return {
      TrainingJobName: jobName,
      TrainingJobArn: `arn:aws:sagemaker:local:000000000000:training-job/${jobName}`,
      TrainingJobStatus: "Completed",
      ModelArtifacts: { S3ModelArtifacts: artifactUri },
    };
  }

  /** CreateModel: loads the artifact named by `PrimaryContainer.ModelDataUrl`. */
  async createModel(p: Params): Promise<Params> {
    const name = str(p.ModelName, "ModelName");
    const url = str(dig(p, "PrimaryContainer", "ModelDataUrl"), "PrimaryContainer.ModelDataUrl");
    const artifact = JSON.parse(this.objects.getSync(url)) as ModelArtifact;
    this.models.set(name, artifact);
    this.calls.push({ at: this.now(), action: "CreateModel", name });
    return { ModelArn: `arn:aws:sagemaker:local:000000000000:model/${name}` };
  }

  /** CreateTransformJob (.sync): scores every input line with the model, one output line per input. */
  async createTransformJob(p: Params): Promise<Params> {
    const jobName = str(p.TransformJobName, "TransformJobName");
    const modelName = str(p.ModelName, "ModelName");
    const model = this.models.get(modelName);
    if (!model) throw new LocalSageMakerError("ValidationException", `Could not find model "${modelName}"`);
    const inputUri = str(
      dig(p, "TransformInput", "DataSource", "S3DataSource", "S3Uri"),
      "TransformInput S3Uri",
    );
    const outputUri = str(dig(p, "TransformOutput", "S3OutputPath"), "TransformOutput.S3OutputPath");
    for (const uri of this.objects.listSync(inputUri)) {
      const out: string[] = [];
      for (const line of this.objects.getSync(uri).split("\n")) {
        if (line.trim() === "") continue;
        const { features } = JSON.parse(line) as { features: Record<string, FeatureValue> };
        const r = predictWith(model, features);
        out.push(JSON.stringify({ prediction: r.prediction, score: r.score }));
      }
      const file = uri.slice(uri.lastIndexOf("/") + 1);
      this.objects.putSync(joinUri(outputUri, `${file}.out`), out.length ? `${out.join("\n")}\n` : "");
    }
    this.calls.push({ at: this.now(), action: "CreateTransformJob", name: jobName, detail: modelName });
    return {
      TransformJobName: jobName,
      TransformJobStatus: "Completed",
      TransformOutput: { S3OutputPath: outputUri },
    };
  }

  async createEndpointConfig(p: Params): Promise<Params> {
    const name = str(p.EndpointConfigName, "EndpointConfigName");
    const modelName = str(dig(p, "ProductionVariants", 0, "ModelName"), "ProductionVariants[0].ModelName");
    const variantName = str(
      dig(p, "ProductionVariants", 0, "VariantName"),
      "ProductionVariants[0].VariantName",
    );
    if (!this.models.has(modelName)) {
      throw new LocalSageMakerError("ValidationException", `Could not find model "${modelName}"`);
    }
    this.endpointConfigs.set(name, { modelName, variantName });
    this.calls.push({ at: this.now(), action: "CreateEndpointConfig", name });
    return { EndpointConfigArn: `arn:aws:sagemaker:local:000000000000:endpoint-config/${name}` };
  }

  /**
   * CreateEndpoint and UpdateEndpoint: the swap completes at once (no canary bake time simulated). Like
   * SageMaker's blue/green update, an update must keep the variant name of the endpoint's current config.
   */
  async updateEndpoint(p: Params, action = "UpdateEndpoint"): Promise<Params> {
    const name = str(p.EndpointName, "EndpointName");
    const configName = str(p.EndpointConfigName, "EndpointConfigName");
    const config = this.endpointConfigs.get(configName);
    const model = config === undefined ? undefined : this.models.get(config.modelName);
    if (!config || !model)
      throw new LocalSageMakerError(
        "ValidationException",
        `Could not find endpoint configuration "${configName}"`,
      );
    const live = this.liveVariant(name);
    if (action === "UpdateEndpoint" && live !== undefined && live !== config.variantName)
      throw new LocalSageMakerError(
        "ValidationException",
        `endpoint "${name}" serves variant "${live}"; a blue/green update must keep it, not "${config.variantName}"`,
      );
    this.endpoint(name).deploy(model, this.now(), configName);
    this.calls.push({ at: this.now(), action, name, detail: configName });
    return { EndpointArn: `arn:aws:sagemaker:local:000000000000:endpoint/${name}` };
  }

  async createEndpoint(p: Params): Promise<Params> {
    return this.updateEndpoint(p, "CreateEndpoint");
  }

  /** DescribeEndpoint as the state machine's poll reads it. */
  async describeEndpointApi(p: Params): Promise<Params> {
    const name = str(p.EndpointName, "EndpointName");
    const e = this.endpoints.get(name);
    if (!e?.model) throw new LocalSageMakerError("ValidationException", `Could not find endpoint "${name}"`);
    return { EndpointName: name, EndpointStatus: "InService", EndpointConfigName: e.configName };
  }

  /** The variant of the endpoint's current config, if it serves one. */
  private liveVariant(endpointName: string): string | undefined {
    const configName = this.endpoints.get(endpointName)?.configName;
    return configName === undefined ? undefined : this.endpointConfigs.get(configName)?.variantName;
  }

  /** The `ModelHosting` port the workflow task Lambda uses. */
  async describeEndpoint(endpointName: string): Promise<EndpointInfo> {
    const e = this.endpoints.get(endpointName);
    if (!e?.model) return { exists: false };
    const variant = this.liveVariant(endpointName);
    return {
      exists: true,
      status: "InService",
      ...(e.configName ? { configName: e.configName } : {}),
      ...(variant !== undefined ? { variantNames: [variant] } : {}),
    };
  }
}
