import { describe, expect, it } from "vitest";
import { outcomeFromReceipts } from "../src/respond/responder.ts";

// How a response ends, from the two receipts: the pause only prevented the attack if it came first.
const receipt = (block: number, index: number, ok = true) => ({
  blockNumber: `0x${block.toString(16)}` as const,
  transactionIndex: `0x${index.toString(16)}` as const,
  status: ok ? ("0x1" as const) : ("0x0" as const),
});

describe("response outcome", () => {
  it("waits while neither is mined", () => {
    expect(outcomeFromReceipts(null, null)).toBeUndefined();
  });

  it("is paused when the pause lands first: ahead in the same block, or before the attack is mined", () => {
    expect(outcomeFromReceipts(receipt(10, 0), receipt(10, 1))).toEqual({
      outcome: "paused",
      includedBlock: 10n,
    });
    expect(outcomeFromReceipts(receipt(10, 3), null)).toEqual({ outcome: "paused", includedBlock: 10n });
    expect(outcomeFromReceipts(receipt(10, 0), receipt(11, 0))?.outcome).toBe("paused");
  });

  it("is attack-mined-first when the attack landed first, though the target ends up paused", () => {
    expect(outcomeFromReceipts(receipt(11, 0), receipt(10, 5))).toEqual({
      outcome: "attack-mined-first",
      includedBlock: 11n,
      detail: "attack mined in block 10 (index 5), the pause after it in block 11 (index 0)",
    });
    expect(outcomeFromReceipts(receipt(10, 2), receipt(10, 1))?.outcome).toBe("attack-mined-first");
    expect(outcomeFromReceipts(null, receipt(10, 1))?.outcome).toBe("attack-mined-first");
  });

  it("is failed when the pause itself reverted", () => {
    expect(outcomeFromReceipts(receipt(10, 0, false), null)).toEqual({
      outcome: "failed",
      detail: "pause reverted in block 10 (index 0)",
    });
  });
});
