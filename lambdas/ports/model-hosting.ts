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
  readonly failureReason?: string;
}

export interface ModelHosting {
  describeEndpoint(endpointName: string): Promise<EndpointInfo>;
}
