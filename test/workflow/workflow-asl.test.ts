/** The pure definition builder and the template extractor, without CDK synthesis. */
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import {
  SAGEMAKER_STATES,
  SNS_STATES,
  STATE,
  TASK_LAMBDA_STATES,
  WAIT_STATES,
} from "../../contracts/workflow";
import { aslFromTemplate, renderRetrainingDefinition, taskLambdaOverrides } from "../../lib/workflow-asl";

const FAKE = {
  TaskFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:tasks",
  SageMakerRoleArn: "arn:aws:iam::000000000000:role/sm",
  TopicArn: "arn:aws:sns:us-east-1:000000000000:alerts",
};

describe("buildRetrainingDefinition", () => {
  const asl = renderRetrainingDefinition(FAKE, {
    trainingSeconds: 7200,
    scoringSeconds: 3600,
    approvalSeconds: 60,
  }) as { States: Record<string, Record<string, unknown>> };

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
});

describe("aslFromTemplate", () => {
  const definition = JSON.stringify({
    StartAt: "A",
    States: {
      A: {
        Type: "Task",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution placeholders, not JS templates
        Resource: "${Fn}",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution placeholders, not JS templates
        Parameters: { TopicArn: "${Topic}", Role: "${Role}" },
        End: true,
      },
    },
  });
  const template = {
    Resources: {
      TasksFn: { Type: "AWS::Lambda::Function" },
      SmRole: { Type: "AWS::IAM::Role" },
      Machine: {
        Type: "AWS::StepFunctions::StateMachine",
        Properties: {
          DefinitionString: { "Fn::Join": ["", [definition.slice(0, 10), definition.slice(10)]] },
          DefinitionSubstitutions: {
            Fn: { "Fn::GetAtt": ["TasksFn", "Arn"] },
            Topic: { "Fn::ImportValue": "Stateful:ExportsOutputRefTopic" },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution placeholders, not JS templates
            Role: { "Fn::Sub": ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}", { Name: "x" }] },
          },
        },
      },
    },
  };

  it("joins the definition and resolves substitutions to fake ARNs", () => {
    const asl = aslFromTemplate(template, undefined, { region: "eu-west-1", account: "111111111111" }) as {
      States: { A: { Resource: string; Parameters: Record<string, string> } };
    };
    expect(asl.States.A.Resource).toBe("arn:aws:lambda:eu-west-1:111111111111:function:TasksFn");
    expect(asl.States.A.Parameters.TopicArn).toBe(
      "arn:aws:local:eu-west-1:111111111111:import/Stateful-ExportsOutputRefTopic",
    );
    expect(asl.States.A.Parameters.Role).toBe("arn:aws:iam::111111111111:role/x");
  });

  it("says so when there is no state machine", () => {
    expect(() => aslFromTemplate({ Resources: {} })).toThrow(/no AWS::StepFunctions::StateMachine/);
  });
});

describe("taskLambdaOverrides", () => {
  it("routes every task-Lambda state to the dispatcher with the state's Parameters as the event", async () => {
    const seen: unknown[] = [];
    const overrides = taskLambdaOverrides(async (event) => {
      seen.push(event);
      return { ok: event.action };
    });
    expect(Object.keys(overrides).sort()).toEqual([...TASK_LAMBDA_STATES].sort());
    expect(await overrides[STATE.promote]!({ action: "promote", run: {} })).toEqual({ ok: "promote" });
    expect(seen).toEqual([{ action: "promote", run: {} }]);
  });
});
