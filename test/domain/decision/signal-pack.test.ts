import { describe, expect, it } from "vitest";
import { SIGNAL_NAMES } from "../../../contracts/policy";
import { SIGNAL_PACK } from "../../../lambdas/domain/decision/signals/index";

describe("the signal pack", () => {
  it("registers every signal a rule can name, once, in the reported order", () => {
    expect(SIGNAL_PACK.map((s) => s.name)).toEqual([...SIGNAL_NAMES]);
  });

  it("marks only calendar and counter facts as deterministic (no persistence needed)", () => {
    expect(SIGNAL_PACK.filter((s) => s.deterministic).map((s) => s.name)).toEqual([
      "labelVolume",
      "modelAge",
      "schedule",
    ]);
  });
});
