/**
 * ModelHosting over the SageMaker API: DescribeEndpoint, with "does not exist" mapped to
 * `{ exists: false }` (SageMaker reports a missing endpoint as a ValidationException), and the model the
 * current configuration serves (the champion to score on the holdout), from DescribeEndpointConfig.
 */
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import type { EndpointInfo, ModelHosting } from "../ports/model-hosting";

export class SageMakerModelHosting implements ModelHosting {
  constructor(private readonly sagemaker: SageMakerClient) {}

  async describeEndpoint(endpointName: string): Promise<EndpointInfo> {
    try {
      const out = await this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
      const modelName = out.EndpointConfigName
        ? (
            await this.sagemaker.send(
              new DescribeEndpointConfigCommand({ EndpointConfigName: out.EndpointConfigName }),
            )
          ).ProductionVariants?.[0]?.ModelName
        : undefined;
      return {
        exists: true,
        ...(out.EndpointStatus ? { status: out.EndpointStatus } : {}),
        ...(out.EndpointConfigName ? { configName: out.EndpointConfigName } : {}),
        ...(out.FailureReason ? { failureReason: out.FailureReason } : {}),
        ...(modelName ? { modelName } : {}),
      };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      if (e.name === "ValidationException" && /could not find endpoint/i.test(e.message ?? ""))
        return { exists: false };
      throw error;
    }
  }
}
