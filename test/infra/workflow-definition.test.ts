/**
 * The workflow state builders (lib/constructs/workflow) without CDK synthesis: the definition rendered on
 * fake resources by local/asl.ts, the grants the states declare, mergeGrants and combineStates.
 */
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import {
  SAGEMAKER_STATES,
  SNS_STATES,
  STATE,
  TASK_LAMBDA_STATES,
  WAIT_STATES,
} from "../../contracts/workflow";
import { type IamGrant, mergeGrants } from "../../lib/constructs/workflow/grants";
import { combineStates } from "../../lib/constructs/workflow/state-builder";
import { fakeWorkflowResources, renderRetrainingDefinition } from "../../local/asl";
import { testModels } from "../support/workflow-stack";

describe("buildRetrainingWorkflow", () => {
  const resources = fakeWorkflowResources(testModels());
  const { definition, grants } = renderRetrainingDefinition(resources, {
    trainingSeconds: 7200,
    scoringSeconds: 3600,
    approvalSeconds: 60,
  });
  const asl = definition as { States: Record<string, Record<string, unknown>> };

  it("is valid ASL", () => {
    expect(aslValidator(asl, { checkPaths: true, checkArn: true }).errors).toEqual([]);
  });

  it("names every overridable state in the exported lists", () => {
    const names = new Set(Object.keys(asl.States));
    const parallel = asl.States[STATE.scoreHoldout] as { Branches: { States: Record<string, unknown> }[] };
    for (const b of parallel.Branches) for (const n of Object.keys(b.States)) names.add(n);
    for (const n of [...TASK_LAMBDA_STATES, ...SAGEMAKER_STATES, ...SNS_STATES, ...WAIT_STATES]) {
      expect(names.has(n), n).toBe(true);
    }
    const tasks = Object.entries(asl.States)
      .filter(([, s]) => s.Type === "Task")
      .map(([n]) => n);
    const listed = new Set<string>([...TASK_LAMBDA_STATES, ...SAGEMAKER_STATES, ...SNS_STATES]);
    expect(tasks.filter((n) => !listed.has(n))).toEqual([]);
  });

  it("uses the static timeouts", () => {
    expect(asl.States[STATE.trainChallenger]?.TimeoutSeconds).toBe(7200);
    expect(asl.States[STATE.requestApproval]?.TimeoutSeconds).toBe(60);
  });

  it("fills the placeholders with the resources the grants are scoped to", () => {
    expect(asl.States[STATE.confirmLease]?.Resource).toBe(resources.taskFunctionArn);
    expect((asl.States[STATE.trainChallenger]!.Parameters as Record<string, unknown>).RoleArn).toBe(
      resources.executionRoleArn,
    );
    expect(JSON.stringify(asl)).not.toMatch(/\$\{[A-Za-z]+\}/);
    const granted = (action: string) =>
      grants.filter((g) => g.actions.includes(action)).flatMap((g) => g.resources);
    expect(granted("lambda:InvokeFunction")).toEqual([
      resources.taskFunctionArn,
      `${resources.taskFunctionArn}:*`,
    ]);
    expect(granted("sagemaker:CreateTrainingJob")).toEqual([
      "arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-*",
      "arn:aws:sagemaker:us-east-1:000000000000:training-job/eta-*",
    ]);
    expect(granted("iam:PassRole")).toEqual([resources.executionRoleArn]);
    expect(granted("sns:Publish")).toEqual([resources.topicArn]);
  });

  it("merges the states' grants into one statement per resource list, without duplicates", () => {
    const keys = grants.map((g) => JSON.stringify([g.resources, g.conditions ?? null]));
    expect(new Set(keys).size).toBe(keys.length);
    for (const g of grants) expect(new Set(g.actions).size).toBe(g.actions.length);
    // The six task-Lambda states share one invoke statement; the four SNS states one publish statement.
    expect(grants.filter((g) => g.actions.includes("lambda:InvokeFunction"))).toHaveLength(1);
    expect(grants.filter((g) => g.actions.includes("sns:Publish"))).toHaveLength(1);
  });
});

describe("mergeGrants", () => {
  const passRole = { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } };
  const cases: [string, IamGrant[], IamGrant[]][] = [
    [
      "unions the actions of grants on the same resources, in first-seen order",
      [
        { actions: ["sagemaker:CreateEndpoint"], resources: ["endpoint/a", "config/a-*"] },
        {
          actions: ["sagemaker:UpdateEndpoint", "sagemaker:CreateEndpoint"],
          resources: ["endpoint/a", "config/a-*"],
        },
      ],
      [
        {
          actions: ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
          resources: ["endpoint/a", "config/a-*"],
        },
      ],
    ],
    [
      "keeps grants on other resources, or under other conditions, apart",
      [
        { actions: ["iam:PassRole"], resources: ["role/sm"], conditions: passRole },
        { actions: ["iam:GetRole"], resources: ["role/sm"] },
        { actions: ["iam:PassRole"], resources: ["role/other"], conditions: passRole },
      ],
      [
        { actions: ["iam:PassRole"], resources: ["role/sm"], conditions: passRole },
        { actions: ["iam:GetRole"], resources: ["role/sm"] },
        { actions: ["iam:PassRole"], resources: ["role/other"], conditions: passRole },
      ],
    ],
    [
      "drops duplicates and grants without resources or actions",
      [
        { actions: ["sns:Publish"], resources: ["topic"] },
        { actions: ["cloudwatch:DescribeAlarms"], resources: [] },
        { actions: [], resources: ["topic"] },
        { actions: ["sns:Publish", "sns:Publish"], resources: ["topic"] },
      ],
      [{ actions: ["sns:Publish"], resources: ["topic"] }],
    ],
  ];
  it.each(cases)("%s", (_name, grants, expected) => {
    expect(mergeGrants(grants)).toEqual(expected);
  });
});

describe("combineStates", () => {
  it("keeps the states in the order of the parts and collects every grant", () => {
    const grant = { actions: ["sns:Publish"], resources: ["topic"] };
    const combined = combineStates(
      { states: { B: { Type: "Pass" } }, grants: [grant] },
      { states: { A: { Type: "Succeed" } }, grants: [grant] },
    );
    expect(Object.keys(combined.states)).toEqual(["B", "A"]);
    expect(combined.grants).toEqual([grant, grant]);
  });

  it("refuses a state built twice", () => {
    const part = { states: { A: { Type: "Pass" } }, grants: [] };
    expect(() => combineStates(part, part)).toThrow(/A is built twice/);
  });
});
