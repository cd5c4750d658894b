/**
 * Local endpoint: SIMULATED SageMaker real-time endpoint. The simulated inference service calls
 * `invoke` for every request; the retraining workflow's deploy step (CreateModel, CreateEndpointConfig,
 * UpdateEndpoint overridden in local mode) swaps the serving model atomically, the way a blue/green
 * `UpdateEndpoint` does: requests before the swap see the old variant, after it the new one.
 */
import type { FeatureValue } from "../lambdas/domain/events";
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
}

/** Raised when the endpoint is invoked before a model is deployed, or with an unknown model. */
export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointError";
  }
}

export class LocalEndpoint {
  private current: ModelArtifact | undefined;
  private readonly registered = new Map<string, ModelArtifact>();
  readonly deployments: EndpointDeployment[] = [];

  constructor(readonly name: string) {}

  /** SIMULATED CreateModel: makes an artifact deployable under its version. */
  register(artifact: ModelArtifact): void {
    this.registered.set(artifact.version, artifact);
  }

  /** Registered artifact by version (for validation of a challenger before deployment). */
  model(version: string): ModelArtifact | undefined {
    return this.registered.get(version);
  }

  /** SIMULATED UpdateEndpoint: atomically routes all traffic to `version`. */
  deploy(version: string, at: number): void {
    const artifact = this.registered.get(version);
    if (!artifact) throw new EndpointError(`model version ${version} is not registered on ${this.name}`);
    this.deployments.push({ at, version, previous: this.current?.version });
    this.current = artifact;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  invoke(features: Readonly<Record<string, FeatureValue>>): EndpointPrediction {
    const model = this.current;
    if (!model) throw new EndpointError(`endpoint ${this.name} has no model deployed`);
    return predictWith(model, features);
  }
}

/** Scores one request with a given artifact (used by the endpoint and by challenger evaluation). */
export function predictWith(
  model: ModelArtifact,
  features: Readonly<Record<string, FeatureValue>>,
): EndpointPrediction {
  const p = score(model.weights, encode(features, model.encoding));
  return { prediction: p >= 0.5 ? 1 : 0, score: Math.round(p * 1e6) / 1e6, modelVersion: model.version };
}
