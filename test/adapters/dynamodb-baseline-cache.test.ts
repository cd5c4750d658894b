/**
 * DynamoDbModelStateRepository.getBaseline keeps parsed baselines (aws-sdk-client-mock): a cached copy is
 * used while the item's createdAt is unchanged (one GetItem projecting only it), re-read when it changed,
 * forgotten when the item is gone or this repository writes the version again.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { emptyProfile } from "../../lambdas/domain/stats/profile";
import { serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { addPrediction } from "../../lambdas/domain/stats/profile-update";

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: "eu-west-1" });
const spec = { task: "binary" as const, features: { x: "numeric" as const } };

function item(createdAt: number, x: number) {
  const profile = emptyProfile(spec);
  addPrediction(profile, { features: { x }, prediction: 1, score: 0.9 });
  return marshall({
    pk: "MODEL#m#BASELINE",
    sk: "v1",
    profile: serializeProfile(profile),
    createdAt,
    source: "training",
  });
}

const projected = () =>
  ddb.commandCalls(GetItemCommand).filter((c) => c.args[0].input.ProjectionExpression === "createdAt").length;
const full = () =>
  ddb.commandCalls(GetItemCommand).filter((c) => c.args[0].input.ProjectionExpression === undefined).length;

beforeEach(() => ddb.reset());

describe("DynamoDbModelStateRepository.getBaseline cache", () => {
  it("parses once while createdAt is unchanged, and re-reads when it changed", async () => {
    const repo = new DynamoDbModelStateRepository({ client, tableName: "t" });
    ddb.on(GetItemCommand).resolves({ Item: item(1000, 3) });
    const first = await repo.getBaseline("m", "v1");
    const second = await repo.getBaseline("m", "v1");
    expect(second).toBe(first);
    expect([full(), projected()]).toEqual([1, 1]);

    // Written again elsewhere (a new createdAt): the new content is read.
    ddb.on(GetItemCommand).resolves({ Item: item(2000, 7) });
    const third = await repo.getBaseline("m", "v1");
    expect(third).not.toBe(first);
    expect(third?.createdAt).toBe(2000);
    const x = third?.profile.features.x;
    expect(x?.kind === "numeric" && x.max).toBe(7);
    expect([full(), projected()]).toEqual([2, 2]);
  });

  it("forgets a baseline whose item is gone", async () => {
    const repo = new DynamoDbModelStateRepository({ client, tableName: "t" });
    ddb
      .on(GetItemCommand)
      .resolvesOnce({ Item: item(1000, 3) })
      .resolves({});
    expect(await repo.getBaseline("m", "v1")).toBeDefined();
    expect(await repo.getBaseline("m", "v1")).toBeUndefined();
    expect(await repo.getBaseline("m", "v1")).toBeUndefined();
    expect([full(), projected()]).toEqual([2, 1]);
  });

  it("drops its copy when it writes the version itself", async () => {
    const repo = new DynamoDbModelStateRepository({ client, tableName: "t" });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(GetItemCommand).resolves({ Item: item(1000, 3) });
    const first = await repo.getBaseline("m", "v1");
    await repo.putBaseline("m", { ...first!, createdAt: 1000 });
    expect(await repo.getBaseline("m", "v1")).not.toBe(first);
    expect([full(), projected()]).toEqual([2, 0]);
  });
});
