/**
 * Test harness of the retraining workflow: synthesizes a small stack with the construct, takes the state
 * machine definition back out of the template (as local mode does), and provides in-memory fakes for
 * the task Lambda's ports and for the SageMaker/SNS task states.
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AttributeType, Table } from "aws-cdk-lib/aws-dynamodb";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { Topic } from "aws-cdk-lib/aws-sns";
import { buildModelCatalog } from "../../contracts/catalog";
import { type DeploymentConfigInput, parseConfig } from "../../contracts/config";
import type { ChallengerResources, EndpointInfo, ModelHosting } from "../../lambdas/ports/model-hosting";
import type { ObjectStore } from "../../lambdas/ports/object-store";
import {
  type ChampionRecord,
  LeaseNotHeldError,
  type Promotion,
  type WorkflowStateStore,
} from "../../lambdas/ports/workflow-state-store";
import { RetrainingWorkflow } from "../../lib/constructs/workflow/retraining-workflow";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

/** Two models: a binary one approved by severity, a regression one reading user data. */
export function testConfig(
  overrides: { approvalTimeoutHours?: number; churnVariantName?: string } = {},
): DeploymentConfigInput {
  return {
    models: [
      {
        id: "churn",
        task: "binary",
        features: [
          { name: "x", kind: "numeric" },
          { name: "plan", kind: "categorical" },
        ],
        labelHorizonHours: 72,
        training: {
          imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/churn-train:1`,
          hyperparameters: { max_depth: 4 },
          trainingWindowDays: 14,
          maxRuntimeMinutes: 60,
        },
        deployment: {
          endpointName: "churn-prod",
          strategy: "canary",
          canarySize: 10,
          bakeTimeMinutes: 5,
          ...(overrides.churnVariantName !== undefined ? { variantName: overrides.churnVariantName } : {}),
        },
        validationGate: { metric: "auc", minImprovement: 0.01, maxPredictionShift: 0.9, minHoldout: 100 },
        approval: {
          required: "bySeverity",
          severities: ["retrain"],
          timeoutHours: overrides.approvalTimeoutHours ?? 24,
        },
      },
      {
        id: "eta",
        task: "regression",
        features: [{ name: "km", kind: "numeric" }],
        policy: { signals: { performance: { metric: "rmse" } } },
        training: {
          imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/eta-train:1`,
          inputDataUri: "s3://user-data-bucket/eta/training/",
        },
        deployment: { strategy: "linear", linearStepSize: 25 },
        validationGate: { metric: "rmse" },
      },
    ],
  };
}

/** The runtime models of {@link testConfig} (what the task Lambda reads from its bundled catalog). */
export function testModels() {
  return buildModelCatalog(parseConfig(testConfig())).models;
}

/**
 * Synthesizes the construct in a small stack. `bundle: false` uses an inline stand-in for the task Lambda
 * (no esbuild), for tests that only execute the definition.
 */
export function synthWorkflow(opts: {
  bundle: boolean;
  approvalTimeoutHours?: number;
  modelPackageGroupPrefix?: string;
  /** churn's `deployment.variantName` (default: the configuration's default). */
  churnVariantName?: string;
}) {
  const app = new App();
  const stack = new Stack(app, "WorkflowTest", { env: { account: ACCOUNT, region: REGION } });
  const table = new Table(stack, "Table", {
    partitionKey: { name: "pk", type: AttributeType.STRING },
    sortKey: { name: "sk", type: AttributeType.STRING },
  });
  const topic = new Topic(stack, "Topic");
  const archiveBucket = new Bucket(stack, "Archive");
  const taskFunction = opts.bundle
    ? undefined
    : new LambdaFunction(stack, "InlineTasks", {
        runtime: Runtime.NODEJS_22_X,
        handler: "index.handler",
        code: Code.fromInline("exports.handler = async () => ({});"),
      });
  const config = parseConfig(
    testConfig({
      ...(opts.approvalTimeoutHours !== undefined ? { approvalTimeoutHours: opts.approvalTimeoutHours } : {}),
      ...(opts.churnVariantName !== undefined ? { churnVariantName: opts.churnVariantName } : {}),
    }),
  );
  const catalog = buildModelCatalog(
    config,
    opts.modelPackageGroupPrefix !== undefined
      ? { modelPackageGroupPrefix: opts.modelPackageGroupPrefix }
      : {},
  );
  const workflow = new RetrainingWorkflow(stack, "Workflow", {
    table,
    topic,
    archiveBucket,
    catalog,
    ...(taskFunction ? { taskFunction } : {}),
  });
  return { app, stack, workflow, template: Template.fromStack(stack), config, catalog };
}

/** ObjectStore in memory, keyed by URI. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, string>();
  async list(prefixUri: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefixUri)).sort();
  }
  async getText(uri: string): Promise<string> {
    const v = this.objects.get(uri);
    if (v === undefined) throw Object.assign(new Error(`NoSuchKey: ${uri}`), { name: "NoSuchKey" });
    return v;
  }
  async putText(uri: string, body: string): Promise<void> {
    this.objects.set(uri, body);
  }
}

/** WorkflowStateStore in memory: leases with owners and expiry, registry, baselines, trigger resets. */
export class MemoryStateStore implements WorkflowStateStore {
  readonly leases = new Map<string, { owner: string; expiresAt: number }>();
  readonly champions = new Map<string, ChampionRecord>();
  readonly registry: ChampionRecord[] = [];
  readonly baselines = new Map<string, string>();
  readonly resets: string[] = [];
  async confirmLease(modelId: string, owner: string, nowMs: number, holdMs: number): Promise<void> {
    const lease = this.leases.get(modelId);
    if (!lease || lease.owner !== owner || lease.expiresAt <= nowMs) {
      throw new LeaseNotHeldError(`lease on ${modelId} is not held by ${owner}`);
    }
    this.leases.set(modelId, { owner, expiresAt: Math.max(lease.expiresAt, nowMs + holdMs) });
  }
  async releaseLease(modelId: string, owner: string): Promise<boolean> {
    if (this.leases.get(modelId)?.owner !== owner) return false;
    this.leases.delete(modelId);
    return true;
  }
  async getChampion(modelId: string): Promise<ChampionRecord | undefined> {
    return this.champions.get(modelId);
  }
  async promote(p: Promotion): Promise<void> {
    if (this.leases.get(p.champion.modelId)?.owner === p.leaseOwner) this.leases.delete(p.champion.modelId);
    this.champions.set(p.champion.modelId, p.champion);
    this.registry.push(p.champion);
    this.baselines.set(`${p.champion.modelId}#${p.baselineVersion}`, p.baseline);
    this.resets.push(p.champion.modelId);
  }
}

/**
 * ModelHosting over the fake endpoints of the SageMaker fake. `resources` (the fake's models and the
 * endpoint configs it created) lets `deleteChallenger` delete what exists; `deleteError` makes it fail.
 */
export class FakeHosting implements ModelHosting {
  /** Everything deleteChallenger deleted, in order. */
  readonly deleted: string[] = [];
  deleteError: Error | undefined;

  constructor(
    private readonly endpoints: Map<string, EndpointInfo>,
    private readonly resources: { models: Map<string, unknown>; configs: () => string[] } = {
      models: new Map(),
      configs: () => [],
    },
  ) {}

  async describeEndpoint(name: string): Promise<EndpointInfo> {
    return this.endpoints.get(name) ?? { exists: false };
  }

  async deleteChallenger(r: ChallengerResources): Promise<string[]> {
    if (this.deleteError) throw this.deleteError;
    const out: string[] = [];
    if (this.resources.configs().includes(r.endpointConfig) && !this.deleted.includes(r.endpointConfig)) {
      this.deleted.push(r.endpointConfig);
      out.push(`endpoint config ${r.endpointConfig}`);
    }
    if (this.resources.models.delete(r.model)) {
      this.deleted.push(r.model);
      out.push(`model ${r.model}`);
    }
    return out;
  }
}
