/**
 * States calling SageMaker: training (`.sync`), the challenger model, holdout scoring of challenger and
 * champion (batch transform, `.sync`), the endpoint configuration, the endpoint create-or-update and the
 * poll until the endpoint settles. Grants follow the Step Functions service integration policies
 * (https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html), scoped to the resources a
 * run creates (`<modelId>-*`) and the models' endpoints instead of the documented wildcards.
 */
import { STATE } from "../../../contracts/workflow";
import type { IamGrant } from "./grants";
import type { RunResourceType, WorkflowResources } from "./resources";
import {
  type BuiltStates,
  catchTo,
  combineStates,
  type Json,
  placeholder,
  retry,
  SUBSTITUTIONS,
} from "./state-builder";

/**
 * Errors of SageMaker integrations worth retrying. Throttling surfaces as the generic service exception
 * for optimized integrations and by name for aws-sdk integrations; capacity limits clear up with time.
 */
export const SAGEMAKER_TRANSIENT = [
  "SageMaker.AmazonSageMakerException",
  "SageMaker.ThrottlingException",
  "SageMaker.SageMakerException",
  "SageMaker.ResourceLimitExceededException",
];

const sageMakerRetry = [retry(SAGEMAKER_TRANSIENT, 5, 5, 120)];

/** Tag of every SageMaker resource a run creates: which model it belongs to. */
const modelTag = [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }];

/** Managed EventBridge rules through which `.sync` integrations learn that a job finished. */
const SYNC_RULES = {
  trainingJobs: "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
  transformJobs: "StepFunctionsGetEventsForSageMakerTransformJobsRule",
} as const;

/** A `.sync` job: create it, poll and stop it, and let Step Functions manage its completion rule. */
function syncJobGrants(
  resources: WorkflowResources,
  type: RunResourceType,
  job: string,
  ruleName: string,
): IamGrant[] {
  return [
    {
      actions: [`sagemaker:Create${job}`, `sagemaker:Describe${job}`, `sagemaker:Stop${job}`],
      resources: resources.runResources(type),
    },
    {
      actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      resources: [resources.eventsRuleArn(ruleName)],
    },
  ];
}

/**
 * Create calls carry the model tag (sagemaker:AddTags); ListTags, which the integration policies grant
 * on `*`, is limited to the same resources.
 */
const tagOnCreate = (resourceArns: readonly string[]): IamGrant => ({
  actions: ["sagemaker:AddTags", "sagemaker:ListTags"],
  resources: resourceArns,
});

/** Jobs and models run as the execution role: the state machine may pass that role, to SageMaker only. */
const passExecutionRole = (resources: WorkflowResources): IamGrant => ({
  actions: ["iam:PassRole"],
  resources: [resources.executionRoleArn],
  conditions: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
});

/** TrainChallenger: the SageMaker training job, waited for (`.sync`), with a static timeout. */
export function trainChallenger(resources: WorkflowResources, timeoutSeconds: number): BuiltStates {
  const state: Json = {
    Type: "Task",
    Resource: "arn:aws:states:::sagemaker:createTrainingJob.sync",
    Parameters: {
      "TrainingJobName.$": "$.run.names.trainingJob",
      AlgorithmSpecification: { "TrainingImage.$": "$.run.training.image", TrainingInputMode: "File" },
      RoleArn: placeholder(SUBSTITUTIONS.sageMakerRoleArn),
      "HyperParameters.$": "$.run.training.hyperparameters",
      InputDataConfig: [
        {
          ChannelName: "train",
          ContentType: "application/jsonlines",
          DataSource: {
            S3DataSource: {
              S3DataType: "S3Prefix",
              "S3Uri.$": "$.dataset.trainUri",
              S3DataDistributionType: "FullyReplicated",
            },
          },
        },
        {
          ChannelName: "validation",
          ContentType: "application/jsonlines",
          DataSource: {
            S3DataSource: {
              S3DataType: "S3Prefix",
              "S3Uri.$": "$.dataset.validationUri",
              S3DataDistributionType: "FullyReplicated",
            },
          },
        },
      ],
      OutputDataConfig: { "S3OutputPath.$": "$.run.s3.artifactsUri" },
      ResourceConfig: {
        "InstanceType.$": "$.run.training.instanceType",
        "InstanceCount.$": "$.run.training.instanceCount",
        "VolumeSizeInGB.$": "$.run.training.volumeSizeGb",
      },
      StoppingCondition: { "MaxRuntimeInSeconds.$": "$.run.training.maxRuntimeSeconds" },
      Tags: modelTag,
    },
    ResultSelector: {
      "jobName.$": "$.TrainingJobName",
      "modelArtifacts.$": "$.ModelArtifacts.S3ModelArtifacts",
      "status.$": "$.TrainingJobStatus",
    },
    ResultPath: "$.training",
    TimeoutSeconds: timeoutSeconds,
    Retry: sageMakerRetry,
    Catch: catchTo(STATE.trainingFailed),
    Next: STATE.createChallengerModel,
  };
  return {
    states: { [STATE.trainChallenger]: state },
    grants: [
      ...syncJobGrants(resources, "training-job", "TrainingJob", SYNC_RULES.trainingJobs),
      tagOnCreate(resources.runResources("training-job")),
      passExecutionRole(resources),
    ],
  };
}

/** CreateChallengerModel: the trained artifacts as a SageMaker model, hosted by the execution role. */
export function createChallengerModel(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.createChallengerModel]: {
        Type: "Task",
        Resource: "arn:aws:states:::sagemaker:createModel",
        Parameters: {
          "ModelName.$": "$.run.names.model",
          PrimaryContainer: {
            "Image.$": "$.run.deployment.image",
            "ModelDataUrl.$": "$.training.modelArtifacts",
          },
          ExecutionRoleArn: placeholder(SUBSTITUTIONS.sageMakerRoleArn),
          Tags: modelTag,
        },
        ResultSelector: { "modelArn.$": "$.ModelArn" },
        ResultPath: "$.challengerModel",
        Retry: sageMakerRetry,
        Catch: catchTo(STATE.scoringFailed),
        Next: STATE.scoreHoldout,
      },
    },
    grants: [
      { actions: ["sagemaker:CreateModel"], resources: resources.runResources("model") },
      tagOnCreate(resources.runResources("model")),
      passExecutionRole(resources),
    ],
  };
}

/** Batch transform of the holdout features with one model; output lines align with input lines. */
function scoringTask(
  resources: WorkflowResources,
  name: string,
  paths: { jobName: string; modelName: string; output: string },
  timeoutSeconds: number,
): BuiltStates {
  const state: Json = {
    Type: "Task",
    Resource: "arn:aws:states:::sagemaker:createTransformJob.sync",
    Parameters: {
      "TransformJobName.$": paths.jobName,
      "ModelName.$": paths.modelName,
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: "S3Prefix", "S3Uri.$": "$.dataset.holdoutFeaturesUri" } },
        ContentType: "application/jsonlines",
        SplitType: "Line",
      },
      TransformOutput: {
        "S3OutputPath.$": paths.output,
        Accept: "application/jsonlines",
        AssembleWith: "Line",
      },
      TransformResources: { "InstanceType.$": "$.run.scoring.instanceType", InstanceCount: 1 },
      Tags: modelTag,
    },
    ResultSelector: { "outputUri.$": "$.TransformOutput.S3OutputPath", "jobName.$": "$.TransformJobName" },
    TimeoutSeconds: timeoutSeconds,
    Retry: sageMakerRetry,
    End: true,
  };
  return {
    states: { [name]: state },
    grants: [
      ...syncJobGrants(resources, "transform-job", "TransformJob", SYNC_RULES.transformJobs),
      tagOnCreate(resources.runResources("transform-job")),
    ],
  };
}

/**
 * ScoreHoldout: challenger and champion (when there is one) score the same holdout in parallel; the
 * branches' grants are the scoring tasks' grants.
 */
export function scoreHoldout(resources: WorkflowResources, timeoutSeconds: number): BuiltStates {
  const challenger = scoringTask(
    resources,
    STATE.scoreChallenger,
    {
      jobName: "$.run.names.challengerTransform",
      modelName: "$.run.names.model",
      output: "$.run.s3.challengerScoresUri",
    },
    timeoutSeconds,
  );
  const champion = combineStates(
    {
      states: {
        [STATE.hasChampion]: {
          Type: "Choice",
          Choices: [{ Variable: "$.run.champion.exists", BooleanEquals: true, Next: STATE.scoreChampion }],
          Default: STATE.noChampion,
        },
      },
      grants: [],
    },
    scoringTask(
      resources,
      STATE.scoreChampion,
      {
        jobName: "$.run.names.championTransform",
        modelName: "$.run.champion.modelName",
        output: "$.run.s3.championScoresUri",
      },
      timeoutSeconds,
    ),
    { states: { [STATE.noChampion]: { Type: "Pass", Result: { skipped: true }, End: true } }, grants: [] },
  );
  return {
    states: {
      [STATE.scoreHoldout]: {
        Type: "Parallel",
        Parameters: { "modelId.$": "$.modelId", "run.$": "$.run", "dataset.$": "$.dataset" },
        Branches: [
          { StartAt: STATE.scoreChallenger, States: challenger.states },
          { StartAt: STATE.hasChampion, States: champion.states },
        ],
        ResultSelector: { "challenger.$": "$[0]", "champion.$": "$[1]" },
        ResultPath: "$.scores",
        Catch: catchTo(STATE.scoringFailed),
        Next: STATE.evaluateChallenger,
      },
    },
    grants: [...challenger.grants, ...champion.grants],
  };
}

/**
 * CreateEndpointConfig: one variant serving the challenger model, named as the live endpoint's variant
 * (`deployment.variantName`; a blue/green update must keep it, and ConfirmLease checks the live endpoint).
 */
export function createEndpointConfig(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.createEndpointConfig]: {
        Type: "Task",
        Resource: "arn:aws:states:::sagemaker:createEndpointConfig",
        Parameters: {
          "EndpointConfigName.$": "$.run.names.endpointConfig",
          ProductionVariants: [
            {
              "VariantName.$": "$.run.deployment.variantName",
              "ModelName.$": "$.run.names.model",
              "InstanceType.$": "$.run.deployment.instanceType",
              "InitialInstanceCount.$": "$.run.deployment.initialInstanceCount",
              InitialVariantWeight: 1,
            },
          ],
          Tags: modelTag,
        },
        ResultSelector: { "arn.$": "$.EndpointConfigArn" },
        ResultPath: "$.endpointConfig",
        Retry: sageMakerRetry,
        Catch: catchTo(STATE.deploymentFailed),
        Next: STATE.endpointExists,
      },
    },
    grants: [
      { actions: ["sagemaker:CreateEndpointConfig"], resources: resources.runResources("endpoint-config") },
      tagOnCreate(resources.runResources("endpoint-config")),
    ],
  };
}

/** CreateEndpoint: the first deployment of a model creates its endpoint on the new configuration. */
function createEndpoint(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.createEndpoint]: {
        Type: "Task",
        Resource: "arn:aws:states:::sagemaker:createEndpoint",
        Parameters: {
          "EndpointName.$": "$.run.endpoint.name",
          "EndpointConfigName.$": "$.run.names.endpointConfig",
          Tags: modelTag,
        },
        ResultSelector: { "arn.$": "$.EndpointArn" },
        ResultPath: "$.deploy",
        Retry: sageMakerRetry,
        Catch: catchTo(STATE.deploymentFailed),
        Next: STATE.startPolling,
      },
    },
    grants: [
      {
        actions: ["sagemaker:CreateEndpoint"],
        resources: [...resources.endpointArns, ...resources.runResources("endpoint-config")],
      },
      tagOnCreate(resources.endpointArns),
    ],
  };
}

/**
 * UpdateEndpoint: blue/green update with the model's traffic shifting and auto-rollback alarms. SageMaker
 * checks that the caller may read those alarms (cloudwatch:DescribeAlarms, see
 * https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
 */
function updateEndpoint(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.updateEndpoint]: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:sagemaker:updateEndpoint",
        Parameters: {
          "EndpointName.$": "$.run.endpoint.name",
          "EndpointConfigName.$": "$.run.names.endpointConfig",
          "DeploymentConfig.$": "$.run.deployment.deploymentConfig",
        },
        ResultSelector: { "arn.$": "$.EndpointArn" },
        ResultPath: "$.deploy",
        Retry: sageMakerRetry,
        Catch: catchTo(STATE.deploymentFailed),
        Next: STATE.startPolling,
      },
    },
    grants: [
      {
        actions: ["sagemaker:UpdateEndpoint"],
        resources: [...resources.endpointArns, ...resources.runResources("endpoint-config")],
      },
      { actions: ["cloudwatch:DescribeAlarms"], resources: resources.rollbackAlarmArns },
    ],
  };
}

/** EndpointExists: update the model's endpoint when it exists, create it otherwise. */
export function deployEndpoint(resources: WorkflowResources): BuiltStates {
  return combineStates(
    {
      states: {
        [STATE.endpointExists]: {
          Type: "Choice",
          Choices: [{ Variable: "$.run.endpoint.exists", BooleanEquals: true, Next: STATE.updateEndpoint }],
          Default: STATE.createEndpoint,
        },
      },
      grants: [],
    },
    createEndpoint(resources),
    updateEndpoint(resources),
  );
}

/**
 * The endpoint poll: DescribeEndpoint every `pollSeconds` until the endpoint is InService on the new
 * configuration (promote), back on the old one (rolled back), failed, or out of polls.
 */
export function pollEndpoint(resources: WorkflowResources): BuiltStates {
  return {
    states: {
      [STATE.startPolling]: {
        Type: "Pass",
        Result: { count: 0 },
        ResultPath: "$.poll",
        Next: STATE.waitForEndpoint,
      },
      [STATE.waitForEndpoint]: {
        Type: "Wait",
        SecondsPath: "$.run.deployment.pollSeconds",
        Next: STATE.describeEndpoint,
      },
      [STATE.describeEndpoint]: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
        Parameters: { "EndpointName.$": "$.run.endpoint.name" },
        ResultSelector: { "status.$": "$.EndpointStatus", "configName.$": "$.EndpointConfigName" },
        ResultPath: "$.endpoint",
        Retry: sageMakerRetry,
        Catch: catchTo(STATE.deploymentFailed),
        Next: STATE.countPoll,
      },
      [STATE.countPoll]: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.poll.count, 1)" },
        ResultPath: "$.poll",
        Next: STATE.endpointStatus,
      },
      [STATE.endpointStatus]: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.endpoint.status", StringEquals: "InService" },
              { Variable: "$.endpoint.configName", StringEqualsPath: "$.run.names.endpointConfig" },
            ],
            Next: STATE.promote,
          },
          { Variable: "$.endpoint.status", StringEquals: "InService", Next: STATE.endpointRolledBack },
          {
            Or: [
              { Variable: "$.endpoint.status", StringEquals: "Failed" },
              { Variable: "$.endpoint.status", StringEquals: "UpdateRollbackFailed" },
              { Variable: "$.endpoint.status", StringEquals: "OutOfService" },
            ],
            Next: STATE.endpointUpdateFailed,
          },
          {
            Variable: "$.poll.count",
            NumericGreaterThanEqualsPath: "$.run.deployment.maxPolls",
            Next: STATE.endpointPollTimedOut,
          },
        ],
        Default: STATE.waitForEndpoint,
      },
    },
    grants: [{ actions: ["sagemaker:DescribeEndpoint"], resources: resources.endpointArns }],
  };
}
