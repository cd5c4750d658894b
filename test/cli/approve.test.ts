import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ApproveUsageError, answerApproval, approveCommand } from "../../bin/commands/approve";

const sfn = mockClient(SFNClient);
const client = () => new SFNClient({ region: "eu-west-1" });

describe("approve command", () => {
  beforeEach(() => {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });

  it("approves with SendTaskSuccess carrying who approved", async () => {
    const out = await answerApproval(
      client(),
      { token: " TOKEN ", by: "alice", comment: "looks good" },
      new Date("2026-11-27T10:00:00Z"),
    );
    expect(out).toMatch(/^approved/);
    const input = sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(input?.taskToken).toBe("TOKEN");
    expect(JSON.parse(input?.output ?? "{}")).toEqual({
      approved: true,
      by: "alice",
      at: "2026-11-27T10:00:00.000Z",
      comment: "looks good",
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it("rejects with SendTaskFailure and the ApprovalRejected error the state machine catches", async () => {
    await answerApproval(client(), { token: "T", reject: true, reason: "holdout too old", by: "bob" });
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input).toEqual({
      taskToken: "T",
      error: "ApprovalRejected",
      cause: "rejected by bob: holdout too old",
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it.each([
    [{ token: "T", reject: true }, /--reason/],
    [{ token: "T", reject: true, reason: "  " }, /--reason/],
    [{ token: "  " }, /--token/],
  ])("refuses %j without sending anything", async (opts, message) => {
    await expect(answerApproval(client(), opts)).rejects.toThrow(message);
    await expect(answerApproval(client(), opts)).rejects.toBeInstanceOf(ApproveUsageError);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("documents its options in --help", () => {
    const help = approveCommand().helpInformation();
    for (const flag of ["--token", "--reject", "--reason", "--comment", "--region"])
      expect(help).toContain(flag);
  });
});
