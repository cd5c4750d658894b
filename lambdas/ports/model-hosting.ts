/**
 * What the workflow's task Lambdas need to know about SageMaker hosting, beyond what Step Functions
 * integrations do directly: whether the endpoint exists and on which configuration (to choose create vs
 * update and to refuse to start while someone else's update is in flight), and why it failed.
 */
export interface EndpointInfo {
  readonly exists: boolean;
  readonly status?: string;
  readonly configName?: string;
  /** SageMaker model served by the endpoint's current configuration (first production variant). */
  readonly modelName?: string;
  /**
   * Names of the endpoint's production variants (DescribeEndpoint `ProductionVariants`), when known: a
   * blue/green update must keep them, so a run checks them against the configured variant name.
   */
  readonly variantNames?: readonly string[];
  readonly failureReason?: string;
}

/** A model version to record in the SageMaker Model Registry (a model package in a group per model). */
export interface ModelPackageRequest {
  readonly groupName: string;
  readonly image: string;
  readonly modelDataUrl: string;
  readonly description: string;
  /** Idempotency token: a retried promotion does not register a second version. */
  readonly clientToken: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The SageMaker resources a run creates for its challenger (named after the run). */
export interface ChallengerResources {
  readonly model: string;
  readonly endpointConfig: string;
}

export interface ModelHosting {
  describeEndpoint(endpointName: string): Promise<EndpointInfo>;
  /**
   * Deletes a failed run's challenger model and endpoint config (either may not exist yet); returns the
   * names actually deleted. Optional: a hosting without it keeps them.
   */
  deleteChallenger?(resources: ChallengerResources): Promise<string[]>;
  /** Registers an approved model package version; returns its ARN. Optional: local mode may omit it. */
  registerModelPackage?(request: ModelPackageRequest): Promise<string>;
}
