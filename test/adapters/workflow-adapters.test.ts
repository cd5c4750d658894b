import { gzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../lambdas/adapters/s3-object-store";
import { SageMakerModelHosting } from "../../lambdas/adapters/sagemaker-model-hosting";

/** The part of the SDK's streaming body the adapter uses. */
const body = (bytes: Uint8Array | string) => ({
  transformToByteArray: async () => new Uint8Array(Buffer.from(bytes)),
});

describe("S3ObjectStore", () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it("lists all pages, skipping folder markers", async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        Contents: [{ Key: "m/2026/b" }, { Key: "m/2026/" }],
        IsTruncated: true,
        NextContinuationToken: "t",
      })
      .on(ListObjectsV2Command, { ContinuationToken: "t" })
      .resolves({ Contents: [{ Key: "m/2026/a" }], IsTruncated: false });
    const store = new S3ObjectStore(new S3Client({ region: "us-east-1" }));
    expect(await store.list("s3://bucket/m/2026/")).toEqual(["s3://bucket/m/2026/a", "s3://bucket/m/2026/b"]);
  });

  it("reads plain and gzip objects alike", async () => {
    s3.on(GetObjectCommand, { Key: "plain" }).resolves({ Body: body("a\nb\n") as never });
    s3.on(GetObjectCommand, { Key: "gz" }).resolves({ Body: body(gzipSync("c\n")) as never });
    const store = new S3ObjectStore(new S3Client({ region: "us-east-1" }));
    expect(await store.getText("s3://bucket/plain")).toBe("a\nb\n");
    expect(await store.getText("s3://bucket/gz")).toBe("c\n");
  });

  it("writes to the bucket and key of the URI", async () => {
    s3.on(PutObjectCommand).resolves({});
    const store = new S3ObjectStore(new S3Client({ region: "us-east-1" }));
    await store.putText("s3://bucket/retraining/x.json", "{}", "application/json");
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: "bucket",
      Key: "retraining/x.json",
      Body: "{}",
      ContentType: "application/json",
    });
  });
});

describe("SageMakerModelHosting", () => {
  const sm = mockClient(SageMakerClient);
  beforeEach(() => sm.reset());

  it("reports status and configuration of an existing endpoint", async () => {
    sm.on(DescribeEndpointCommand).resolves({
      EndpointName: "churn",
      EndpointArn: "arn",
      EndpointStatus: "Failed",
      EndpointConfigName: "churn-1",
      FailureReason: "bad image",
      ProductionVariants: [{ VariantName: "Blue", CurrentWeight: 1 }],
      CreationTime: new Date(),
      LastModifiedTime: new Date(),
    });
    sm.on(DescribeEndpointConfigCommand, { EndpointConfigName: "churn-1" }).resolves({
      EndpointConfigName: "churn-1",
      EndpointConfigArn: "arn",
      ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "churn-model-1" }],
      CreationTime: new Date(),
    });
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    expect(await hosting.describeEndpoint("churn")).toEqual({
      exists: true,
      status: "Failed",
      configName: "churn-1",
      failureReason: "bad image",
      modelName: "churn-model-1",
      variantNames: ["Blue"],
    });
  });

  it("reports every production variant, and none when DescribeEndpoint lists none (e.g. while Creating)", async () => {
    sm.on(DescribeEndpointCommand, { EndpointName: "ab" }).resolves({
      EndpointName: "ab",
      EndpointStatus: "InService",
      ProductionVariants: [{ VariantName: "A" }, { VariantName: "B" }],
    });
    sm.on(DescribeEndpointCommand, { EndpointName: "new" }).resolves({
      EndpointName: "new",
      EndpointStatus: "Creating",
    });
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    expect((await hosting.describeEndpoint("ab")).variantNames).toEqual(["A", "B"]);
    expect(await hosting.describeEndpoint("new")).toEqual({ exists: true, status: "Creating" });
  });

  it.each([
    ["both exist", [true, true], ["endpoint config churn-20261127t1", "model churn-20261127t1"]],
    ["only the model exists (failed before the endpoint config)", [false, true], ["model churn-20261127t1"]],
    ["neither exists", [false, false], []],
  ])("deletes a failed run's challenger: %s", async (_what, [config, model], expected) => {
    const notFound = (what: string) =>
      Object.assign(new Error(`Could not find ${what} "churn-20261127t1".`), { name: "ValidationException" });
    if (config) sm.on(DeleteEndpointConfigCommand).resolves({});
    else sm.on(DeleteEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    if (model) sm.on(DeleteModelCommand).resolves({});
    else sm.on(DeleteModelCommand).rejects(notFound("model"));
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    const resources = { model: "churn-20261127t1", endpointConfig: "churn-20261127t1" };
    expect(await hosting.deleteChallenger(resources)).toEqual(expected);
    expect(sm.commandCalls(DeleteEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: "churn-20261127t1",
    });
    expect(sm.commandCalls(DeleteModelCommand)[0]!.args[0].input).toEqual({ ModelName: "churn-20261127t1" });
  });

  it("rethrows other errors of a challenger deletion", async () => {
    sm.on(DeleteEndpointConfigCommand).rejects(
      Object.assign(new Error("not allowed"), { name: "AccessDeniedException" }),
    );
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    await expect(hosting.deleteChallenger({ model: "m", endpointConfig: "c" })).rejects.toThrow(
      "not allowed",
    );
  });

  it("maps a missing endpoint to exists: false and rethrows other errors", async () => {
    const missing = Object.assign(new Error('Could not find endpoint "churn".'), {
      name: "ValidationException",
    });
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    sm.on(DescribeEndpointCommand, { EndpointName: "churn" }).rejects(missing);
    sm.on(DescribeEndpointCommand, { EndpointName: "other" }).rejects(throttled);
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    expect(await hosting.describeEndpoint("churn")).toEqual({ exists: false });
    await expect(hosting.describeEndpoint("other")).rejects.toThrow("Rate exceeded");
  });

  it("registers an approved model package, creating the group once and passing the idempotency token", async () => {
    const exists = Object.assign(new Error("Model Package Group already exists: churn"), {
      name: "ValidationException",
    });
    sm.on(CreateModelPackageGroupCommand).rejects(exists);
    sm.on(CreateModelPackageCommand).resolves({
      ModelPackageArn: "arn:aws:sagemaker:eu-west-1:1:model-package/churn/3",
    });
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    const arn = await hosting.registerModelPackage({
      groupName: "churn",
      image: "img:1",
      modelDataUrl: "s3://b/model.tar.gz",
      description: "auc 0.91",
      clientToken: "churn-20261127t000000",
      metadata: { auc: "0.91" },
    });
    expect(arn).toBe("arn:aws:sagemaker:eu-west-1:1:model-package/churn/3");
    expect(sm.commandCalls(CreateModelPackageCommand)[0]?.args[0].input).toMatchObject({
      ModelPackageGroupName: "churn",
      ClientToken: "churn-20261127t000000",
      ModelApprovalStatus: "Approved",
      InferenceSpecification: { Containers: [{ Image: "img:1", ModelDataUrl: "s3://b/model.tar.gz" }] },
      CustomerMetadataProperties: { auc: "0.91" },
    });
  });

  it("does not hide other model-package group errors", async () => {
    sm.on(CreateModelPackageGroupCommand).rejects(
      Object.assign(new Error("denied"), { name: "AccessDeniedException" }),
    );
    const hosting = new SageMakerModelHosting(new SageMakerClient({ region: "us-east-1" }));
    await expect(
      hosting.registerModelPackage({
        groupName: "g",
        image: "i",
        modelDataUrl: "s3://b/m",
        description: "",
        clientToken: "t",
        metadata: {},
      }),
    ).rejects.toThrow("denied");
    expect(sm.commandCalls(CreateModelPackageCommand)).toHaveLength(0);
  });
});
