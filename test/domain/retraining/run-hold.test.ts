import { describe, expect, it } from "vitest";
import type { RuntimeModel } from "../../../contracts/model";
import { runHoldMs } from "../../../lambdas/domain/retraining/run-hold";

describe("runHoldMs", () => {
  it("covers training, scoring, approval and the deployment budget", () => {
    const spec = {
      retraining: {
        training: { maxRuntimeSeconds: 3600 },
        approval: { required: "always", timeoutHours: 24 },
        deployment: { pollSeconds: 60, maxPolls: 90 },
      },
    } as unknown as RuntimeModel;
    expect(runHoldMs(spec)).toBe((3600 + 7200 + 24 * 3600 + 5400 + 3600) * 1000);
  });
});
