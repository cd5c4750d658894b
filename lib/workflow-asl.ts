/**
 * The retraining state machine as plain Amazon States Language, plus a helper that takes it back out of
 * a synthesized CloudFormation template. Kept free of CDK imports so that local mode and tests can load
 * it cheaply: the construct (lib/constructs/retraining-workflow.ts) deploys exactly this definition with
 * `definitionSubstitutions`, and local mode runs exactly what would be deployed (aws-local-stepfunctions,
 * with the Task states below overridden by name).
 *
 * Data flow: every state writes a small result under its own key (`$.run`, `$.dataset`, ...); bulk data
 * (datasets, scores, profiles) lives in S3 and DynamoDB and travels by reference, so the state payload
 * stays a few KB, far from the 256 KB limit. State names, task actions and error names are the
 * workflow contract (contracts/workflow.ts).
 */
import {
  APPROVAL_REJECTED_ERROR,
  STATE,
  TASK_ACTIONS,
  TASK_LAMBDA_STATES,
  TRANSIENT_ERROR,
} from "../contracts/workflow";

/**
 * aws-local-stepfunctions `taskResourceLocalHandlers` for the task-Lambda states, calling an in-process
 * dispatcher such as `createWorkflowTasks(deps).handle`. The state's Parameters are exactly the event.
 */
export function taskLambdaOverrides(
  handle: (event: { action: string } & Record<string, unknown>) => Promise<unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: matches the interpreter's JSONValue handler type without importing it
): Record<string, (input: any) => Promise<any>> {
  return Object.fromEntries(
    TASK_LAMBDA_STATES.map((name) => [
      name,
      (input: unknown) => handle(input as { action: string } & Record<string, unknown>),
    ]),
  );
}

/** Placeholders in the definition, filled by CloudFormation `DefinitionSubstitutions`. */
export const SUBSTITUTIONS = {
  taskFunctionArn: "TaskFunctionArn",
  sageMakerRoleArn: "SageMakerRoleArn",
  topicArn: "TopicArn",
} as const;

const sub = (name: string): string => `\${${name}}`;

const LAMBDA_TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  TRANSIENT_ERROR,
];

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

const SNS_TRANSIENT = [
  "SNS.AmazonSNSException",
  "SNS.SdkClientException",
  "SNS.InternalErrorException",
  "SNS.ThrottledException",
];

type Json = Record<string, unknown>;

const retry = (
  errors: string[],
  intervalSeconds: number,
  maxAttempts: number,
  maxDelaySeconds: number,
): Json => ({
  ErrorEquals: errors,
  IntervalSeconds: intervalSeconds,
  MaxAttempts: maxAttempts,
  BackoffRate: 2,
  MaxDelaySeconds: maxDelaySeconds,
  JitterStrategy: "FULL",
});

const lambdaRetry = [retry(LAMBDA_TRANSIENT, 2, 5, 60)];
const sageMakerRetry = [retry(SAGEMAKER_TRANSIENT, 5, 5, 120)];
const snsRetry = [retry(SNS_TRANSIENT, 2, 5, 30)];

/** Catch everything into a failure-marking state; the error lands in `$.failure` ({Error, Cause}). */
const catchTo = (next: string): Json[] => [
  { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: next },
];

/** A task-Lambda state: direct function ARN as Resource, so its input is exactly `Parameters`. */
function lambdaTask(
  action: string,
  parameters: Json,
  resultPath: string | null,
  next: Json,
  catchNext?: string,
): Json {
  return {
    Type: "Task",
    Resource: sub(SUBSTITUTIONS.taskFunctionArn),
    Parameters: { action, ...parameters },
    ResultPath: resultPath,
    TimeoutSeconds: 900,
    Retry: lambdaRetry,
    ...(catchNext ? { Catch: catchTo(catchNext) } : {}),
    ...next,
  };
}

/** Marks `$.failure.stage` after a Catch, then goes to the common failure handler. */
const stageMarker = (stage: string): Json => ({
  Type: "Pass",
  Result: stage,
  ResultPath: "$.failure.stage",
  Next: STATE.recordFailure,
});

/** A failure detected by the workflow itself (no error thrown): builds `$.failure`. */
const failureOf = (stage: string, error: string, causePath: string | null, cause?: string): Json => ({
  Type: "Pass",
  Parameters: {
    stage,
    Error: error,
    ...(causePath ? { "Cause.$": causePath } : { Cause: cause ?? error }),
  },
  ResultPath: "$.failure",
  Next: STATE.recordFailure,
});

/** Batch transform of the holdout features with one model; output lines align with input lines. */
function scoringTask(
  jobNamePath: string,
  modelNamePath: string,
  outputPath: string,
  timeoutSeconds: number,
  next: Json,
): Json {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::sagemaker:createTransformJob.sync",
    Parameters: {
      "TransformJobName.$": jobNamePath,
      "ModelName.$": modelNamePath,
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: "S3Prefix", "S3Uri.$": "$.dataset.holdoutFeaturesUri" } },
        ContentType: "application/jsonlines",
        SplitType: "Line",
      },
      TransformOutput: {
        "S3OutputPath.$": outputPath,
        Accept: "application/jsonlines",
        AssembleWith: "Line",
      },
      TransformResources: { "InstanceType.$": "$.run.scoring.instanceType", InstanceCount: 1 },
      Tags: [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }],
    },
    ResultSelector: { "outputUri.$": "$.TransformOutput.S3OutputPath", "jobName.$": "$.TransformJobName" },
    TimeoutSeconds: timeoutSeconds,
    Retry: sageMakerRetry,
    ...next,
  };
}

const snsAttributes = (severity: string): Json => ({
  severity: { DataType: "String", StringValue: severity },
  modelId: { DataType: "String", "StringValue.$": "$.modelId" },
});

/**
 * Publish to the alerts topic (`subject` and `message`: the `Subject.$` / `Message.$` parameters), then go to
 * `next`. A publish that still fails after the retries is recorded in `$.notifyError`: an alert that cannot
 * be sent must not change the outcome of the run.
 */
function notifyTask(subject: string, message: string, severity: string, next: string): Json {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::sns:publish",
    Parameters: {
      TopicArn: sub(SUBSTITUTIONS.topicArn),
      "Subject.$": subject,
      "Message.$": message,
      MessageAttributes: snsAttributes(severity),
    },
    ResultPath: null,
    Retry: snsRetry,
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: next }],
    Next: next,
  };
}

/**
 * Task timeouts, static in the definition. Step Functions resolves `TimeoutSecondsPath` against the raw
 * state input while aws-local-stepfunctions resolves it against the task's Parameters, so a dynamic
 * timeout would behave differently locally; the construct computes these from the configuration (the
 * longest of all models). SageMaker's own StoppingCondition still enforces each model's max runtime.
 */
export interface WorkflowTimeouts {
  readonly trainingSeconds: number;
  readonly scoringSeconds: number;
  readonly approvalSeconds: number;
}

export const DEFAULT_TIMEOUTS: WorkflowTimeouts = {
  trainingSeconds: 3 * 3600,
  scoringSeconds: 2 * 3600,
  approvalSeconds: 24 * 3600,
};

/**
 * Builds the definition. Execution input: `{ modelId, window?: {from, to}, severity?, reason?,
 * decisionTime?, leaseOwner? }` (see docs/workflow.md); everything else is planned by ConfirmLease.
 */
export function buildRetrainingDefinition(timeouts: WorkflowTimeouts = DEFAULT_TIMEOUTS): Json {
  const states: Record<string, Json> = {
    [STATE.confirmLease]: lambdaTask(
      TASK_ACTIONS.confirmLease,
      {
        "request.$": "$",
        execution: {
          "id.$": "$$.Execution.Id",
          "name.$": "$$.Execution.Name",
          "startTime.$": "$$.Execution.StartTime",
        },
      },
      "$.run",
      { Next: STATE.prepareDataset },
      STATE.leaseFailed,
    ),
    [STATE.prepareDataset]: lambdaTask(
      TASK_ACTIONS.prepareDataset,
      { "run.$": "$.run" },
      "$.dataset",
      { Next: STATE.trainChallenger },
      STATE.datasetFailed,
    ),
    [STATE.trainChallenger]: {
      Type: "Task",
      Resource: "arn:aws:states:::sagemaker:createTrainingJob.sync",
      Parameters: {
        "TrainingJobName.$": "$.run.names.trainingJob",
        AlgorithmSpecification: { "TrainingImage.$": "$.run.training.image", TrainingInputMode: "File" },
        RoleArn: sub(SUBSTITUTIONS.sageMakerRoleArn),
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
        Tags: [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }],
      },
      ResultSelector: {
        "jobName.$": "$.TrainingJobName",
        "modelArtifacts.$": "$.ModelArtifacts.S3ModelArtifacts",
        "status.$": "$.TrainingJobStatus",
      },
      ResultPath: "$.training",
      TimeoutSeconds: timeouts.trainingSeconds,
      Retry: sageMakerRetry,
      Catch: catchTo(STATE.trainingFailed),
      Next: STATE.createChallengerModel,
    },
    [STATE.createChallengerModel]: {
      Type: "Task",
      Resource: "arn:aws:states:::sagemaker:createModel",
      Parameters: {
        "ModelName.$": "$.run.names.model",
        PrimaryContainer: {
          "Image.$": "$.run.deployment.image",
          "ModelDataUrl.$": "$.training.modelArtifacts",
        },
        ExecutionRoleArn: sub(SUBSTITUTIONS.sageMakerRoleArn),
        Tags: [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }],
      },
      ResultSelector: { "modelArn.$": "$.ModelArn" },
      ResultPath: "$.challengerModel",
      Retry: sageMakerRetry,
      Catch: catchTo(STATE.scoringFailed),
      Next: STATE.scoreHoldout,
    },
    [STATE.scoreHoldout]: {
      Type: "Parallel",
      Parameters: { "modelId.$": "$.modelId", "run.$": "$.run", "dataset.$": "$.dataset" },
      Branches: [
        {
          StartAt: STATE.scoreChallenger,
          States: {
            [STATE.scoreChallenger]: scoringTask(
              "$.run.names.challengerTransform",
              "$.run.names.model",
              "$.run.s3.challengerScoresUri",
              timeouts.scoringSeconds,
              { End: true },
            ),
          },
        },
        {
          StartAt: STATE.hasChampion,
          States: {
            [STATE.hasChampion]: {
              Type: "Choice",
              Choices: [
                { Variable: "$.run.champion.exists", BooleanEquals: true, Next: STATE.scoreChampion },
              ],
              Default: STATE.noChampion,
            },
            [STATE.scoreChampion]: scoringTask(
              "$.run.names.championTransform",
              "$.run.champion.modelName",
              "$.run.s3.championScoresUri",
              timeouts.scoringSeconds,
              { End: true },
            ),
            [STATE.noChampion]: { Type: "Pass", Result: { skipped: true }, End: true },
          },
        },
      ],
      ResultSelector: { "challenger.$": "$[0]", "champion.$": "$[1]" },
      ResultPath: "$.scores",
      Catch: catchTo(STATE.scoringFailed),
      Next: STATE.evaluateChallenger,
    },
    [STATE.evaluateChallenger]: lambdaTask(
      TASK_ACTIONS.evaluateChallenger,
      { "run.$": "$.run", "dataset.$": "$.dataset", "scores.$": "$.scores" },
      "$.evaluation",
      { Next: STATE.validationPassed },
      STATE.evaluationFailed,
    ),
    [STATE.validationPassed]: {
      Type: "Choice",
      Choices: [{ Variable: "$.evaluation.passed", BooleanEquals: true, Next: STATE.approvalRequired }],
      Default: STATE.validationRejected,
    },
    [STATE.approvalRequired]: {
      Type: "Choice",
      Choices: [{ Variable: "$.run.approval.required", BooleanEquals: true, Next: STATE.requestApproval }],
      Default: STATE.createEndpointConfig,
    },
    [STATE.requestApproval]: {
      Type: "Task",
      Resource: "arn:aws:states:::sns:publish.waitForTaskToken",
      Parameters: {
        TopicArn: sub(SUBSTITUTIONS.topicArn),
        "Subject.$": "States.Format('[retrain-triggers] approval needed: model {}', $.modelId)",
        "Message.$":
          "States.Format('{}\n\nApprove within {} hours:\n  npm run cli -- approve --token {}\nReject:\n  npm run cli -- approve --reject --reason <why> --token {}\nWithout an answer the run fails safe: champion and endpoint unchanged.', $.evaluation.summary, $.run.approval.timeoutHours, $$.Task.Token, $$.Task.Token)",
        MessageAttributes: snsAttributes("retrain"),
      },
      TimeoutSeconds: timeouts.approvalSeconds,
      ResultPath: "$.approval",
      Retry: [retry(SNS_TRANSIENT, 2, 3, 30)],
      Catch: [
        { ErrorEquals: ["States.Timeout"], ResultPath: "$.failure", Next: STATE.approvalTimedOut },
        { ErrorEquals: [APPROVAL_REJECTED_ERROR], ResultPath: "$.failure", Next: STATE.approvalRejected },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: STATE.approvalRejected },
      ],
      Next: STATE.createEndpointConfig,
    },
    [STATE.createEndpointConfig]: {
      Type: "Task",
      Resource: "arn:aws:states:::sagemaker:createEndpointConfig",
      Parameters: {
        "EndpointConfigName.$": "$.run.names.endpointConfig",
        ProductionVariants: [
          {
            VariantName: "AllTraffic",
            "ModelName.$": "$.run.names.model",
            "InstanceType.$": "$.run.deployment.instanceType",
            "InitialInstanceCount.$": "$.run.deployment.initialInstanceCount",
            InitialVariantWeight: 1,
          },
        ],
        Tags: [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }],
      },
      ResultSelector: { "arn.$": "$.EndpointConfigArn" },
      ResultPath: "$.endpointConfig",
      Retry: sageMakerRetry,
      Catch: catchTo(STATE.deploymentFailed),
      Next: STATE.endpointExists,
    },
    [STATE.endpointExists]: {
      Type: "Choice",
      Choices: [{ Variable: "$.run.endpoint.exists", BooleanEquals: true, Next: STATE.updateEndpoint }],
      Default: STATE.createEndpoint,
    },
    [STATE.createEndpoint]: {
      Type: "Task",
      Resource: "arn:aws:states:::sagemaker:createEndpoint",
      Parameters: {
        "EndpointName.$": "$.run.endpoint.name",
        "EndpointConfigName.$": "$.run.names.endpointConfig",
        Tags: [{ Key: "retrain-triggers:model", "Value.$": "$.modelId" }],
      },
      ResultSelector: { "arn.$": "$.EndpointArn" },
      ResultPath: "$.deploy",
      Retry: sageMakerRetry,
      Catch: catchTo(STATE.deploymentFailed),
      Next: STATE.startPolling,
    },
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
    [STATE.promote]: lambdaTask(
      TASK_ACTIONS.promote,
      {
        "run.$": "$.run",
        "training.$": "$.training",
        "evaluation.$": "$.evaluation",
        "dataset.$": "$.dataset",
      },
      "$.promotion",
      { Next: STATE.releaseLease },
      STATE.promotionFailed,
    ),
    [STATE.releaseLease]: {
      ...lambdaTask(TASK_ACTIONS.releaseLease, { "run.$": "$.run", outcome: "succeeded" }, null, {
        Next: STATE.notifySuccess,
      }),
      // The run succeeded; an unreleased lease only delays the next run until it expires.
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.releaseError", Next: STATE.notifySuccess }],
    },
    [STATE.notifySuccess]: notifyTask("$.promotion.subject", "$.promotion.message", "info", STATE.succeeded),
    [STATE.succeeded]: { Type: "Succeed" },

    // Failure path: mark the stage, record + release the lease, alert, fail.
    [STATE.leaseFailed]: stageMarker("lease"),
    [STATE.datasetFailed]: stageMarker("dataset"),
    [STATE.trainingFailed]: stageMarker("training"),
    [STATE.scoringFailed]: stageMarker("scoring"),
    [STATE.evaluationFailed]: stageMarker("evaluation"),
    [STATE.approvalRejected]: stageMarker("approval"),
    [STATE.approvalTimedOut]: stageMarker("approval"),
    [STATE.deploymentFailed]: stageMarker("deployment"),
    [STATE.promotionFailed]: stageMarker("promotion"),
    [STATE.validationRejected]: failureOf("validation", "ValidationRejected", "$.evaluation.summary"),
    [STATE.endpointRolledBack]: failureOf(
      "deployment",
      "EndpointRolledBack",
      null,
      "the endpoint is InService on its previous configuration: the update was rolled back (alarm or failed deployment)",
    ),
    [STATE.endpointUpdateFailed]: failureOf("deployment", "EndpointUpdateFailed", "$.endpoint.status"),
    [STATE.endpointPollTimedOut]: failureOf(
      "deployment",
      "EndpointPollTimedOut",
      null,
      "the endpoint did not reach InService within the polling budget",
    ),
    [STATE.recordFailure]: {
      ...lambdaTask(
        TASK_ACTIONS.fail,
        { "state.$": "$", "executionName.$": "$$.Execution.Name" },
        "$.alert",
        {
          Next: STATE.notifyFailure,
        },
      ),
      Catch: [
        { ErrorEquals: ["States.ALL"], ResultPath: "$.recordError", Next: STATE.notifyFailureFallback },
      ],
    },
    [STATE.notifyFailure]: notifyTask("$.alert.subject", "$.alert.message", "warn", STATE.failed),
    [STATE.notifyFailureFallback]: notifyTask(
      "States.Format('[retrain-triggers] retraining of {} failed', $.modelId)",
      "States.Format('Retraining failed and the failure could not be recorded; the lease expires on its own. Failure: {} Recording error: {}', States.JsonToString($.failure), States.JsonToString($.recordError))",
      "warn",
      STATE.failed,
    ),
    [STATE.failed]: { Type: "Fail", ErrorPath: "$.failure.Error", CausePath: "$.failure.Cause" },
  };
  return {
    Comment:
      "Retraining workflow: prepare dataset, SageMaker training, challenger vs champion on the same holdout, optional approval, blue/green endpoint update, promote. Any failure: alert, release lease, champion unchanged.",
    StartAt: STATE.confirmLease,
    States: states,
  };
}

/** Values used for tokens when a synthesized template is turned back into runnable ASL. */
export interface FakeArnOptions {
  readonly region?: string;
  readonly account?: string;
}

type CfnValue = unknown;

/**
 * Extracts the state machine definition from a synthesized CloudFormation template (the result of
 * `Template.fromStack(stack).toJSON()` or a cdk.out `*.template.json`) and returns it as ASL, with
 * `DefinitionSubstitutions` applied and CloudFormation tokens (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::ImportValue, pseudo parameters) resolved to deterministic fake ARNs. Local mode overrides every Task state that
 * would touch AWS, so the fake ARNs are never called; they only need to be well-formed.
 *
 * @param logicalIdPrefix picks the state machine when the template holds several (default: the only
 * `AWS::StepFunctions::StateMachine`, or the first whose logical id starts with the prefix).
 */
export function aslFromTemplate(
  template: { Resources?: Record<string, { Type: string; Properties?: Record<string, CfnValue> }> },
  logicalIdPrefix?: string,
  opts: FakeArnOptions = {},
): Record<string, unknown> {
  const region = opts.region ?? "us-east-1";
  const account = opts.account ?? "000000000000";
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(
    ([id, r]) =>
      r.Type === "AWS::StepFunctions::StateMachine" && (!logicalIdPrefix || id.startsWith(logicalIdPrefix)),
  );
  const found = machines[0];
  if (!found)
    throw new Error(
      `no AWS::StepFunctions::StateMachine${logicalIdPrefix ? ` matching ${logicalIdPrefix}` : ""}`,
    );
  const props = found[1].Properties ?? {};

  const fakeArn = (logicalId: string): string => {
    const type = resources[logicalId]?.Type ?? "";
    switch (type) {
      case "AWS::Lambda::Function":
        return `arn:aws:lambda:${region}:${account}:function:${logicalId}`;
      case "AWS::IAM::Role":
        return `arn:aws:iam::${account}:role/${logicalId}`;
      case "AWS::SNS::Topic":
        return `arn:aws:sns:${region}:${account}:${logicalId}`;
      case "AWS::S3::Bucket":
        return `arn:aws:s3:::${logicalId.toLowerCase()}`;
      case "AWS::DynamoDB::Table":
        return `arn:aws:dynamodb:${region}:${account}:table/${logicalId}`;
      default:
        return `arn:aws:local:${region}:${account}:${logicalId}`;
    }
  };
  const pseudo: Record<string, string> = {
    "AWS::Region": region,
    "AWS::AccountId": account,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "local",
  };
  const resolve = (v: CfnValue): string => {
    if (typeof v === "string") return v;
    if (typeof v !== "object" || v === null) return String(v);
    const o = v as Record<string, unknown>;
    if ("Ref" in o) {
      const ref = String(o.Ref);
      if (pseudo[ref] !== undefined) return pseudo[ref];
      // Ref of a topic is its ARN; of a function or table its name.
      const type = resources[ref]?.Type;
      return type === "AWS::SNS::Topic" || type === "AWS::IAM::Role" ? fakeArn(ref) : ref;
    }
    if ("Fn::GetAtt" in o) {
      const [id] = o["Fn::GetAtt"] as [string, string];
      return fakeArn(id);
    }
    if ("Fn::ImportValue" in o) {
      // Cross-stack reference (e.g. the topic of the stateful stack): a well-formed stand-in.
      const name = resolve(o["Fn::ImportValue"]).replace(/[^A-Za-z0-9-]/g, "-");
      return `arn:aws:local:${region}:${account}:import/${name}`;
    }
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, CfnValue[]];
      return parts.map(resolve).join(sep);
    }
    if ("Fn::Sub" in o) {
      const arg = o["Fn::Sub"];
      const [text, vars] = Array.isArray(arg)
        ? (arg as [string, Record<string, CfnValue>])
        : [String(arg), {}];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) =>
        vars[name] !== undefined ? resolve(vars[name]) : (pseudo[name] ?? fakeArn(name.split(".")[0]!)),
      );
    }
    throw new Error(`unsupported CloudFormation token in definition: ${JSON.stringify(v).slice(0, 200)}`);
  };

  let text = resolve(props.DefinitionString);
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, CfnValue>;
  text = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) =>
    substitutions[name] !== undefined ? resolve(substitutions[name]) : m,
  );
  return JSON.parse(text) as Record<string, unknown>;
}

/** The definition with its `${...}` placeholders replaced, e.g. by local fake ARNs. */
export function renderRetrainingDefinition(
  values: Readonly<Record<string, string>>,
  timeouts: WorkflowTimeouts = DEFAULT_TIMEOUTS,
): Record<string, unknown> {
  const text = JSON.stringify(buildRetrainingDefinition(timeouts)).replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (m, name: string) => (values[name] !== undefined ? values[name] : m),
  );
  return JSON.parse(text) as Record<string, unknown>;
}
