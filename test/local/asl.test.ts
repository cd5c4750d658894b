/** local/asl.ts: the definition taken back out of a synthesized template, and the task-Lambda overrides. */
import { describe, expect, it } from "vitest";
import { STATE, TASK_LAMBDA_STATES } from "../../contracts/workflow";
import { aslFromTemplate, taskLambdaOverrides } from "../../local/asl";

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
