import { describe, expect, it } from "vitest";
import { isTransient } from "../../lambdas/adapters/transient-errors";

describe("transient errors", () => {
  it.each([
    [Object.assign(new Error("slow down"), { name: "ThrottlingException" }), true],
    [Object.assign(new Error("x"), { name: "ProvisionedThroughputExceededException" }), true],
    [Object.assign(new Error("x"), { name: "Whatever", $retryable: { throttling: true } }), true],
    [Object.assign(new Error("x"), { name: "InternalError", $metadata: { httpStatusCode: 503 } }), true],
    [
      Object.assign(new Error("x"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } }),
      false,
    ],
    [Object.assign(new Error("x"), { name: "InsufficientDataError" }), false],
    ["not an error", false],
  ])("%s -> %s", (error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});
