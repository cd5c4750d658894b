/**
 * ModelHosting over the SageMaker API: DescribeEndpoint, with "does not exist" mapped to
 * `{ exists: false }` (SageMaker reports a missing endpoint as a ValidationException), the names of its
 * production variants (`ProductionVariants[].VariantName` of the DescribeEndpoint response,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html), and the model
 * the current configuration serves (the champion to score on the holdout), from DescribeEndpointConfig.
 */
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import type {
  ChallengerResources,
  EndpointInfo,
  ModelHosting,
  ModelPackageRequest,
} from "../ports/model-hosting";

/** SageMaker reports a missing model or endpoint config as a ValidationException "Could not find ...". */
const isNotFound = (error: unknown): boolean => {
  const e = error as { name?: string; message?: string };
  return e.name === "ValidationException" && /could not find/i.test(e.message ?? "");
};

export class SageMakerModelHosting implements ModelHosting {
  constructor(private readonly sagemaker: SageMakerClient) {}

  async describeEndpoint(endpointName: string): Promise<EndpointInfo> {
    try {
      const out = await this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
      const modelName = out.EndpointConfigName ? await this.servedModel(out.EndpointConfigName) : undefined;
      const variantNames = out.ProductionVariants?.flatMap((v) => (v.VariantName ? [v.VariantName] : []));
      return {
        exists: true,
        ...(out.EndpointStatus ? { status: out.EndpointStatus } : {}),
        ...(out.EndpointConfigName ? { configName: out.EndpointConfigName } : {}),
        ...(out.FailureReason ? { failureReason: out.FailureReason } : {}),
        ...(modelName ? { modelName } : {}),
        ...(variantNames ? { variantNames } : {}),
      };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      if (e.name === "ValidationException" && /could not find endpoint/i.test(e.message ?? ""))
        return { exists: false };
      throw error;
    }
  }

  /**
   * The first variant's model of an endpoint config; undefined when the config cannot be read (e.g. a
   * hand-made initial config outside the workflow's `<modelId>-*` names): the caller falls back to the registry.
   */
  private async servedModel(endpointConfigName: string): Promise<string | undefined> {
    try {
      const out = await this.sagemaker.send(
        new DescribeEndpointConfigCommand({ EndpointConfigName: endpointConfigName }),
      );
      return out.ProductionVariants?.[0]?.ModelName;
    } catch (error) {
      if ((error as { name?: string }).name === "AccessDeniedException") return undefined;
      throw error;
    }
  }

  /** DeleteEndpointConfig, then DeleteModel; a resource that does not exist is skipped. */
  async deleteChallenger(resources: ChallengerResources): Promise<string[]> {
    const deleted: string[] = [];
    try {
      await this.sagemaker.send(
        new DeleteEndpointConfigCommand({ EndpointConfigName: resources.endpointConfig }),
      );
      deleted.push(`endpoint config ${resources.endpointConfig}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.sagemaker.send(new DeleteModelCommand({ ModelName: resources.model }));
      deleted.push(`model ${resources.model}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return deleted;
  }

  async registerModelPackage(request: ModelPackageRequest): Promise<string> {
    try {
      await this.sagemaker.send(
        new CreateModelPackageGroupCommand({
          ModelPackageGroupName: request.groupName,
          ModelPackageGroupDescription: "Champions promoted by the retraining workflow",
        }),
      );
    } catch (error) {
      const e = error as { name?: string; message?: string };
      if (!(e.name === "ValidationException" && /already exists/i.test(e.message ?? ""))) throw error;
    }
    const out = await this.sagemaker.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: request.groupName,
        ModelPackageDescription: request.description.slice(0, 1000),
        ClientToken: request.clientToken,
        ModelApprovalStatus: "Approved",
        InferenceSpecification: {
          Containers: [{ Image: request.image, ModelDataUrl: request.modelDataUrl }],
          SupportedContentTypes: ["application/jsonlines"],
          SupportedResponseMIMETypes: ["application/jsonlines"],
        },
        CustomerMetadataProperties: { ...request.metadata },
      }),
    );
    if (!out.ModelPackageArn) throw new Error(`CreateModelPackage returned no ARN for ${request.groupName}`);
    return out.ModelPackageArn;
  }
}
