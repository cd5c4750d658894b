import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModelCatalog, deploymentConfigOf, parseModelCatalog } from "../../contracts/catalog";
import {
  ConfigError,
  DEFAULTS,
  type DeploymentConfigInput,
  deploymentWaitMinutes,
  effectiveStrategy,
  formatPath,
  loadConfig,
  readableArchiveDays,
  scheduleExpressionProblem,
} from "../../contracts/config";
import { DEFAULT_TRIGGER_POLICY, gateMetricOf, performanceMetricOf } from "../../contracts/policy";
import { DAY_MS } from "../../contracts/time";
import { DEFAULT_VALIDATION_LIMITS } from "../../lambdas/domain/ingest/event-validation";

const EXAMPLE = "config/example.config.json";

/** A minimal valid configuration; each invalid case below changes one thing. */
function minimal(): DeploymentConfigInput {
  return {
    models: [
      {
        id: "churn",
        task: "binary",
        features: [
          { name: "tenure", kind: "numeric", importance: 0.5 },
          { name: "plan", kind: "categorical" },
        ],
        training: { imageUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:1" },
      },
    ],
  };
}

/** Runs loadConfig and returns the ConfigError's issues (fails the test if it does not throw one). */
function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    loadConfig(input as object);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig: valid configurations", () => {
  it("loads the checked-in example and fills every default", () => {
    const config = loadConfig(EXAMPLE);
    expect(config.models.map((m) => m.id)).toEqual(["churn", "delivery-eta"]);
    const eta = config.models[1]!;
    expect(eta.deployment.canarySize).toBe(DEFAULTS.deployment.canarySize);
    expect(eta.training.volumeSizeGb).toBe(DEFAULTS.training.volumeSizeGb);
    expect(eta.labelHorizonHours).toBe(DEFAULTS.model.labelHorizonHours);
    expect(config.ingest.batchSize).toBe(500);
    expect(config.retention.archiveDays).toBe(730);
  });

  it("a regression model with the default policy gets the task's default metric", () => {
    const input = minimal();
    (input.models[0] as Record<string, unknown>).task = "regression";
    const model = loadConfig(input).models[0]!;
    expect(model.policy.signals.performance.metric).toBeUndefined();
    expect(performanceMetricOf(model.policy, "regression")).toBe("rmse");
    expect(gateMetricOf(model.validationGate, "regression")).toBe("rmse");
  });

  it("applies defaults to a minimal configuration", () => {
    const config = loadConfig(minimal());
    expect(config.name).toBe(DEFAULTS.name);
    expect(config.schedule.expression).toBe(DEFAULTS.schedule.expression);
    expect(config.ingest.streamMode).toBe("on-demand");
    expect(config.alerts.email).toEqual([]);
    expect(config.models[0]!.policy).toEqual(DEFAULT_TRIGGER_POLICY);
    expect(config.models[0]!.deployment.strategy).toBe("canary");
    expect(config.models[0]!.deployment.variantName).toBe("AllTraffic");
    expect(config.models[0]!.training.hyperparameters).toEqual({});
  });

  it("carries deployment.variantName to every Lambda's model catalog", () => {
    const input = minimal();
    input.models[0]!.deployment = { variantName: "blue-1" };
    const catalog = parseModelCatalog(JSON.stringify(buildModelCatalog(loadConfig(input))));
    expect(catalog.models[0]!.retraining.deployment.variantName).toBe("blue-1");
  });

  it("defaults the ingest event-time limits to the ingest domain's own defaults", () => {
    const config = loadConfig(minimal());
    expect(config.ingest.maxFutureSkewSeconds * 1000).toBe(DEFAULT_VALIDATION_LIMITS.maxFutureSkewMs);
    expect(config.ingest.maxEventAgeDays * DAY_MS).toBe(DEFAULT_VALIDATION_LIMITS.retentionMs);
  });

  it("stringifies hyperparameters for SageMaker", () => {
    const input = minimal();
    input.models[0]!.training.hyperparameters = { depth: 6, eta: 0.1, early: true, objective: "binary" };
    expect(loadConfig(input).models[0]!.training.hyperparameters).toEqual({
      depth: "6",
      eta: "0.1",
      early: "true",
      objective: "binary",
    });
  });
});

describe("loadConfig: invalid configurations name the field", () => {
  const cases: {
    name: string;
    mutate: (c: DeploymentConfigInput & Record<string, unknown>) => void;
    path: string;
    message: RegExp;
  }[] = [
    {
      name: "canary size out of range",
      mutate: (c) => {
        c.models[0]!.deployment = { canarySize: 0 };
      },
      path: "models[0].deployment.canarySize",
      message: /^must be between 1 and 50$/,
    },
    {
      name: "canary larger than SageMaker's 50 % of the fleet",
      mutate: (c) => {
        c.models[0]!.deployment = { canarySize: 51 };
      },
      path: "models[0].deployment.canarySize",
      message: /^must be between 1 and 50$/,
    },
    {
      name: "linear step below SageMaker's 10 %",
      mutate: (c) => {
        c.models[0]!.deployment = { strategy: "linear", linearStepSize: 9 };
      },
      path: "models[0].deployment.linearStepSize",
      message: /^must be between 10 and 50$/,
    },
    {
      name: "linear step above SageMaker's 50 %",
      mutate: (c) => {
        c.models[0]!.deployment = { strategy: "linear", linearStepSize: 51 };
      },
      path: "models[0].deployment.linearStepSize",
      message: /^must be between 10 and 50$/,
    },
    {
      name: "linear steps times the bake time beyond the deployment timeout",
      mutate: (c) => {
        // 10 steps of 10 % x 10 min + 5 min termination wait = 105 min > 60 min.
        c.models[0]!.deployment = { strategy: "linear", linearStepSize: 10, instanceCount: 4 };
      },
      path: "models[0].deployment.maxExecutionMinutes",
      message:
        /must exceed the deployment's waits, 105 min: 10 baking period\(s\) of bakeTimeMinutes \(10\) for strategy linear with linearStepSize 10, plus terminationWaitMinutes \(5\)/,
    },
    {
      name: "canary baking periods and termination wait equal to the deployment timeout",
      mutate: (c) => {
        // 2 x 25 min + 10 min = 60 min: SageMaker needs the timeout to be larger.
        c.models[0]!.deployment = {
          bakeTimeMinutes: 25,
          terminationWaitMinutes: 10,
          maxExecutionMinutes: 60,
        };
      },
      path: "models[0].deployment.maxExecutionMinutes",
      message: /must exceed the deployment's waits, 60 min: 2 baking period\(s\)/,
    },
    {
      name: "variant name with an underscore",
      mutate: (c) => {
        c.models[0]!.deployment = { variantName: "All_Traffic" };
      },
      path: "models[0].deployment.variantName",
      message: /^must be 1-63 alphanumerics or inner hyphens \(a SageMaker variant name\)$/,
    },
    {
      name: "empty variant name",
      mutate: (c) => {
        c.models[0]!.deployment = { variantName: "" };
      },
      path: "models[0].deployment.variantName",
      message: /a SageMaker variant name/,
    },
    {
      name: "variant name longer than 63 characters",
      mutate: (c) => {
        c.models[0]!.deployment = { variantName: "v".repeat(64) };
      },
      path: "models[0].deployment.variantName",
      message: /a SageMaker variant name/,
    },
    {
      name: "unknown task",
      mutate: (c) => {
        (c.models[0] as Record<string, unknown>).task = "ranking";
      },
      path: "models[0].task",
      message: /must be one of binary, multiclass, regression/,
    },
    {
      name: "duplicate model id",
      mutate: (c) => {
        c.models.push({ ...c.models[0]!, deployment: { endpointName: "other" } });
      },
      path: "models[1].id",
      message: /duplicate model id "churn" \(also models\[0\]\)/,
    },
    {
      name: "bad cron (both day fields set)",
      mutate: (c) => {
        c.schedule = { expression: "cron(0 3 * * * *)" };
      },
      path: "schedule.expression",
      message: /exactly one of day-of-month and day-of-week must be \?/,
    },
    {
      name: "cron with an invalid minute",
      mutate: (c) => {
        c.schedule = { expression: "cron(61 3 * * ? *)" };
      },
      path: "schedule.expression",
      message: /minute/,
    },
    {
      name: "negative feature importance",
      mutate: (c) => {
        c.models[0]!.features[0]!.importance = -0.1;
      },
      path: "models[0].features[0].importance",
      message: /must be >= 0/,
    },
    {
      name: "duplicate feature",
      mutate: (c) => {
        c.models[0]!.features.push({ name: "tenure", kind: "numeric" });
      },
      path: "models[0].features[2].name",
      message: /duplicate feature "tenure"/,
    },
    {
      name: "misspelt field",
      mutate: (c) => {
        (c.models[0]!.deployment as Record<string, unknown>) = { canarysize: 10 };
      },
      path: "models[0].deployment.canarysize",
      message: /unknown field/,
    },
    {
      name: "performance metric the task does not define",
      mutate: (c) => {
        (c.models[0] as Record<string, unknown>).task = "regression";
        c.models[0]!.policy = { signals: { performance: { metric: "accuracy" } } };
      },
      path: "models[0].policy.signals.performance.metric",
      message: /"accuracy" is not defined for regression models/,
    },
    {
      name: "invalid policy field (EVALUATOR's schema, same path format)",
      mutate: (c) => {
        c.models[0]!.policy = { signals: { drift: { maxDriftedShare: 2 } } };
      },
      path: "models[0].policy.signals.drift.maxDriftedShare",
      message: /./,
    },
    {
      name: "drift override of an undeclared feature",
      mutate: (c) => {
        c.models[0]!.policy = { signals: { drift: { features: { tenur: { ignore: true } } } } };
      },
      path: "models[0].policy.signals.drift.features.tenur",
      message: /unknown feature "tenur"/,
    },
    {
      name: "multiclass without classes",
      mutate: (c) => {
        (c.models[0] as Record<string, unknown>).task = "multiclass";
        c.models[0]!.policy = { signals: { performance: { metric: "macroF1" } } };
        c.models[0]!.validationGate = { metric: "macroF1" };
      },
      path: "models[0].classes",
      message: /at least 3 classes/,
    },
    {
      name: "missing training image",
      mutate: (c) => {
        (c.models[0] as Record<string, unknown>).training = {};
      },
      path: "models[0].training.imageUri",
      message: /is required/,
    },
    {
      name: "log retention CloudWatch does not offer",
      mutate: (c) => {
        c.retention = { logDays: 31 };
      },
      path: "retention.logDays",
      message: /must be one of 1, 3, 5/,
    },
    {
      name: "glacier transition after expiry",
      mutate: (c) => {
        c.retention = { archiveDays: 60, archiveGlacierDays: 90 };
      },
      path: "retention.archiveGlacierDays",
      message: /less than archiveDays/,
    },
    {
      name: "non-https webhook",
      mutate: (c) => {
        c.alerts = { https: ["http://hooks.example.com/x"] };
      },
      path: "alerts.https[0]",
      message: /https:\/\//,
    },
    {
      name: "bucket that does not divide a day",
      mutate: (c) => {
        c.models[0]!.bucketMinutes = 7;
      },
      path: "models[0].bucketMinutes",
      message: /divide 1440/,
    },
    {
      name: "model id too long for SageMaker names",
      mutate: (c) => {
        c.models[0]!.id = `m${"-".repeat(40)}x`;
      },
      path: "models[0].id",
      message: /at most 32 characters/,
    },
    {
      name: "no models",
      mutate: (c) => {
        c.models = [];
      },
      path: "models",
      message: /at least one model/,
    },
    {
      name: "negative clock skew",
      mutate: (c) => {
        c.ingest = { maxFutureSkewSeconds: -1 };
      },
      path: "ingest.maxFutureSkewSeconds",
      message: /^must be between 0 and 86400$/,
    },
    {
      name: "label horizon longer than the accepted event age",
      mutate: (c) => {
        c.models[0]!.labelHorizonHours = 24 * 10 + 1;
        c.ingest = { maxEventAgeDays: 10 };
      },
      path: "models[0].labelHorizonHours",
      message: /must not exceed ingest\.maxEventAgeDays \(10 days = 240 h\)/,
    },
    {
      name: "seasonal adaptive limits with a reference period shorter than minHistory weeks",
      mutate: (c) => {
        c.models[0]!.policy = { stability: { adaptive: { enabled: true, seasonal: true } } };
      },
      path: "models[0].policy.stability.adaptive.referenceHours",
      message: /holds 2 week\(s\), fewer than minHistory \(12\); set referenceHours to at least 2016/,
    },
    {
      name: "seasonal adaptive limits on a schedule that does not repeat weekly",
      mutate: (c) => {
        c.models[0]!.policy = {
          stability: { adaptive: { enabled: true, seasonal: true, referenceHours: 24 * 7 * 12 } },
        };
        c.schedule = { expression: "rate(5 hours)" };
      },
      path: "models[0].policy.stability.adaptive.seasonal",
      message: /rate\(5 hours\) does not divide a week/,
    },
  ];

  it.each(cases)("$name -> $path", ({ mutate, path, message }) => {
    const input = minimal() as DeploymentConfigInput & Record<string, unknown>;
    mutate(input);
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `issues were: ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it("puts every issue in the error message as `path: problem`", () => {
    const input = minimal();
    input.models[0]!.deployment = { canarySize: 100 };
    expect(() => loadConfig(input)).toThrow(/models\[0\]\.deployment\.canarySize: must be between 1 and 50/);
  });

  it("reports unreadable files, invalid JSON and foreign JSON as ConfigError", () => {
    expect(() => loadConfig("config/does-not-exist.json")).toThrow(
      /config\/does-not-exist\.json[\s\S]*cannot read/,
    );
    const dir = mkdtempSync(join(tmpdir(), "config-test-"));
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{ "models": [ }');
    expect(() => loadConfig(broken)).toThrow(/not valid JSON/);
    expect(() => loadConfig("tsconfig.json")).toThrow(/compilerOptions: unknown field/);
  });
});

describe("training window and the archive's lifecycle", () => {
  const withWindow = (trainingWindowDays: number, retention: Record<string, number> = {}) => {
    const input = minimal();
    input.models[0]!.training.trainingWindowDays = trainingWindowDays;
    input.retention = retention;
    return input;
  };

  it("accepts windows that end a day before the Glacier transition (defaults: 90 days, up to 88)", () => {
    expect(
      loadConfig(withWindow(DEFAULTS.training.trainingWindowDays)).models[0]!.training.trainingWindowDays,
    ).toBe(30);
    expect(loadConfig(withWindow(88)).models[0]!.training.trainingWindowDays).toBe(88);
  });

  it("refuses a window reaching into Glacier objects, naming the field", () => {
    expect(issuesOf(withWindow(89))).toContainEqual({
      path: "models[0].training.trainingWindowDays",
      message: expect.stringMatching(
        /^must be at most 88 days: .*retention\.archiveGlacierDays \(90\) moves older events to Glacier/,
      ),
    });
  });

  it("refuses a window reaching past the archive's expiry when there is no Glacier transition", () => {
    const input = withWindow(60, { archiveDays: 60, archiveGlacierDays: 0, archiveInfrequentAccessDays: 30 });
    expect(issuesOf(input)).toContainEqual({
      path: "models[0].training.trainingWindowDays",
      message: expect.stringMatching(
        /^must be at most 58 days: .*retention\.archiveDays \(60\) deletes older events/,
      ),
    });
  });

  it("accepts any window when the archive keeps its events readable forever, or the model brings its data", () => {
    const forever = withWindow(3650, {
      archiveDays: 0,
      archiveGlacierDays: 0,
      archiveInfrequentAccessDays: 30,
    });
    expect(loadConfig(forever).models[0]!.training.trainingWindowDays).toBe(3650);
    const userData = withWindow(365);
    userData.models[0]!.training.inputDataUri = "s3://user-data/churn/";
    expect(loadConfig(userData).models[0]!.training.trainingWindowDays).toBe(365);
  });

  it("matches the readable days to the lifecycle actions", () => {
    expect(readableArchiveDays({ archiveGlacierDays: 90, archiveDays: 365 })).toEqual({
      days: 90,
      field: "archiveGlacierDays",
    });
    expect(readableArchiveDays({ archiveGlacierDays: 0, archiveDays: 365 })).toEqual({
      days: 365,
      field: "archiveDays",
    });
    expect(readableArchiveDays({ archiveGlacierDays: 0, archiveDays: 0 })).toBeUndefined();
  });
});

describe("SageMaker deployment limits", () => {
  const withDeployment = (deployment: Record<string, unknown>) => {
    const input = minimal();
    input.models[0]!.deployment = deployment;
    return loadConfig(input).models[0]!;
  };
  const routing = (model: ReturnType<typeof withDeployment>) =>
    (deploymentConfigOf(model).BlueGreenUpdatePolicy as { TrafficRoutingConfiguration: { Type: string } })
      .TrafficRoutingConfiguration;

  it("accepts the limits themselves: canary 50 %, linear 10 % and 50 %, waits just inside the timeout", () => {
    expect(withDeployment({ canarySize: 50 }).deployment.canarySize).toBe(50);
    expect(withDeployment({ strategy: "linear", linearStepSize: 50 }).deployment.linearStepSize).toBe(50);
    // 10 steps x 5 min + 5 min = 55 min < 60 min.
    const linear = withDeployment({ strategy: "linear", linearStepSize: 10, bakeTimeMinutes: 5 });
    expect(deploymentWaitMinutes(linear.deployment)).toEqual({ bakingPeriods: 10, total: 55 });
  });

  it("keeps the defaults valid: canary, 10 %, 10 min bake, 5 min termination wait, 60 min timeout", () => {
    const model = withDeployment({});
    expect(deploymentWaitMinutes(model.deployment)).toEqual({ bakingPeriods: 2, total: 25 });
    expect(model.deployment.maxExecutionMinutes).toBe(DEFAULTS.deployment.maxExecutionMinutes);
  });

  it("counts one baking period all at once, two for a canary and ceil(100 / step) for linear", () => {
    const waits = (deployment: Record<string, unknown>) =>
      deploymentWaitMinutes(
        withDeployment({ bakeTimeMinutes: 1, terminationWaitMinutes: 0, ...deployment }).deployment,
      ).bakingPeriods;
    expect(waits({ strategy: "all-at-once" })).toBe(1);
    expect(waits({ strategy: "canary" })).toBe(2);
    expect(waits({ strategy: "linear", linearStepSize: 25 })).toBe(4);
    expect(waits({ strategy: "linear", linearStepSize: 30 })).toBe(4);
    expect(waits({ strategy: "linear", linearStepSize: 50 })).toBe(2);
  });

  it("falls back to all-at-once for canary and linear on a single instance", () => {
    const single = withDeployment({ strategy: "canary", instanceCount: 1 });
    expect(effectiveStrategy(single.deployment)).toBe("all-at-once");
    expect(routing(single)).toEqual({ Type: "ALL_AT_ONCE", WaitIntervalInSeconds: 600 });
    const linear = withDeployment({ strategy: "linear", instanceCount: 1 });
    expect(routing(linear).Type).toBe("ALL_AT_ONCE");
  });

  it("shifts canary and linear traffic from two instances on", () => {
    expect(routing(withDeployment({ strategy: "canary", instanceCount: 2 }))).toEqual({
      Type: "CANARY",
      CanarySize: { Type: "CAPACITY_PERCENT", Value: 10 },
      WaitIntervalInSeconds: 600,
    });
    expect(routing(withDeployment({ strategy: "linear", instanceCount: 2 }))).toMatchObject({
      Type: "LINEAR",
      LinearStepSize: { Type: "CAPACITY_PERCENT", Value: 25 },
    });
  });

  it("checks the timeout against the configured strategy, so adding instances never invalidates it", () => {
    const input = minimal();
    // Canary on one instance runs all at once (1 x 30 + 5 = 35 min), but canary needs 2 x 30 + 5 = 65 min.
    input.models[0]!.deployment = { bakeTimeMinutes: 30 };
    expect(issuesOf(input)).toContainEqual({
      path: "models[0].deployment.maxExecutionMinutes",
      message: expect.stringMatching(/65 min: 2 baking period/),
    });
  });
});

describe("schedule expressions", () => {
  it.each([
    ["rate(1 hour)", undefined],
    ["rate(15 minutes)", undefined],
    ["cron(0 3 ? * MON-FRI *)", undefined],
    ["cron(0/30 * * * ? 2026-2030)", undefined],
    ["rate(0 hours)", /at least 1/],
    ["rate(1 fortnight)", /must be/],
    ["cron(0 3 * * ?)", /6 fields/],
    ["0 3 * * *", /must be/],
  ])("%s", (expression, problem) => {
    const found = scheduleExpressionProblem(expression);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe("model catalog", () => {
  it("is read back by the Lambdas with every model, feature and policy as configured", () => {
    const config = loadConfig(EXAMPLE);
    const built = buildModelCatalog(config);
    const catalog = parseModelCatalog(JSON.stringify(built));
    expect(catalog).toEqual(built);
    expect(catalog.models.map((m) => m.id)).toEqual(["churn", "delivery-eta"]);
    catalog.models.forEach((m, i) => {
      const source = config.models[i]!;
      expect(m.policy).toEqual(source.policy);
      expect(m.features).toEqual(source.features);
      expect(m.labelHorizonHours).toBe(source.labelHorizonHours);
      expect(m.bucketMinutes).toBe(source.bucketMinutes);
      expect(m.predictionIndex).toBe(true);
      expect(m.retraining.training.image).toBe(source.training.imageUri);
      expect(m.retraining.gate).toEqual(source.validationGate);
    });
  });

  it("carries predictionIndex: false to every Lambda", () => {
    const input = minimal();
    input.models[0]!.predictionIndex = false;
    expect(buildModelCatalog(loadConfig(input)).models[0]!.predictionIndex).toBe(false);
  });

  it("rejects a predictionIndex that is not a boolean, naming the field", () => {
    const input = minimal() as unknown as { models: Array<Record<string, unknown>> };
    input.models[0]!.predictionIndex = "no";
    expect(() => loadConfig(input as never)).toThrow(/models\[0\]\.predictionIndex: .*expected boolean/);
  });

  it("has no size limit: 20 models of 200 features each round-trip unchanged", () => {
    const input = minimal();
    const template = input.models[0]!;
    input.models = Array.from({ length: 20 }, (_, m) => ({
      ...template,
      id: `model-${m}`,
      deployment: { endpointName: `endpoint-${m}` },
      features: Array.from({ length: 200 }, (_, i) => ({
        name: `feature_with_a_long_name_${i}`,
        kind: "numeric" as const,
      })),
    }));
    const built = buildModelCatalog(loadConfig(input));
    const json = JSON.stringify(built);
    expect(Buffer.byteLength(json)).toBeGreaterThan(100_000);
    expect(parseModelCatalog(json)).toEqual(built);
  });

  it("rejects a malformed catalog naming the field", () => {
    expect(() => parseModelCatalog('{"version":1,"models":[{"id":"x"}]}')).toThrow(/models\[0\]\.task/);
    expect(() => parseModelCatalog('{"version":2,"models":[]}')).toThrow(/version/);
    expect(() => parseModelCatalog("not json")).toThrow(ConfigError);
  });

  it("formats paths with indexes", () => {
    expect(formatPath(["models", 0, "deployment", "canarySize"])).toBe("models[0].deployment.canarySize");
    expect(formatPath([])).toBe("(root)");
  });
});
