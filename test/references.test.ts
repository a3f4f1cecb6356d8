import { describe, expect, it } from "vitest";
import { createReferenceMemory, type ReferenceRequest, referenceKey } from "../src/simulate/references.ts";

const call = (n: number): Extract<ReferenceRequest, { kind: "call" }> => ({
  kind: "call",
  from: "0x00000000000000000000000000000000000000aa",
  to: `0x${n.toString(16).padStart(40, "0")}`,
  data: "0x0902f1ac",
});

describe("reference memory", () => {
  it("keys a request whatever the case of its addresses and data", () => {
    const a = call(10);
    const upper = { ...a, to: a.to.toUpperCase().replace("0X", "0x") } as ReferenceRequest;
    expect(referenceKey(upper)).toBe(referenceKey(a));
    expect(referenceKey({ kind: "balance", holder: a.from ?? "0x" })).not.toBe(referenceKey(a));
  });

  it("gives the most recently needed first, each once, and forgets the oldest beyond its size", () => {
    const memory = createReferenceMemory({ max: 3 });
    memory.note([call(1), call(2)], 5n);
    memory.note([call(3), call(1)], 6n);
    expect(memory.requests(6n)).toEqual([call(1), call(3), call(2)]);
    memory.note([call(4)], 7n);
    expect(memory.requests(7n)).toEqual([call(4), call(1), call(3)]);
    expect(memory.size).toBe(3);
  });

  it("forgets what no simulation needed for keepHeads heads", () => {
    const memory = createReferenceMemory({ keepHeads: 2n });
    memory.note([call(1)], 10n);
    memory.note([call(2)], 11n);
    expect(memory.requests(12n)).toEqual([call(2), call(1)]);
    expect(memory.requests(13n)).toEqual([call(2)]);
    expect(memory.size).toBe(1);
  });
});
