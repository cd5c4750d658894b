/**
 * Local endpoint: SIMULATED SageMaker real-time endpoint. The simulated inference service calls
 * `invoke` for every request; the retraining workflow's deploy step (CreateEndpoint / UpdateEndpoint,
 * overridden in local mode by `LocalSageMaker`) swaps the serving model atomically, as a completed
 * blue/green `UpdateEndpoint` does: requests before the swap see the old variant, after it the new one.
 * Traffic shifting (canary/linear) and rollback alarms are not simulated.
 */
import type { FeatureValue } from "../contracts/events";
import { encode, type ModelArtifact, score } from "./trainer";

export interface EndpointPrediction {
  readonly prediction: 0 | 1;
  /** P(class 1). */
  readonly score: number;
  readonly modelVersion: string;
}

/** A deployment of the endpoint, for the report. */
export interface EndpointDeployment {
  readonly at: number;
  readonly version: string;
  readonly previous: string | undefined;
  readonly configName: string | undefined;
}

/** Raised when the endpoint is invoked before a model is deployed. */
export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointError";
  }
}

export class LocalEndpoint {
  private current: ModelArtifact | undefined;
  private currentConfig: string | undefined;
  readonly deployments: EndpointDeployment[] = [];

  constructor(readonly name: string) {}

  /** SIMULATED UpdateEndpoint that has reached InService: all traffic now goes to `artifact`. */
  deploy(artifact: ModelArtifact, at: number, configName?: string): void {
    this.deployments.push({ at, version: artifact.version, previous: this.current?.version, configName });
    this.current = artifact;
    this.currentConfig = configName;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  get configName(): string | undefined {
    return this.currentConfig;
  }

  get model(): ModelArtifact | undefined {
    return this.current;
  }

  invoke(features: Readonly<Record<string, FeatureValue>>): EndpointPrediction {
    const model = this.current;
    if (!model) throw new EndpointError(`endpoint ${this.name} has no model deployed`);
    return predictWith(model, features);
  }
}

/** Scores one request with a given artifact (endpoint and batch transform share it). */
export function predictWith(
  model: ModelArtifact,
  features: Readonly<Record<string, FeatureValue>>,
): EndpointPrediction {
  const p = score(model.weights, encode(features, model.encoding));
  return { prediction: p >= 0.5 ? 1 : 0, score: Math.round(p * 1e6) / 1e6, modelVersion: model.version };
}
