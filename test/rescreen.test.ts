import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import type { Rpc } from "../src/internal/rpc.ts";
import { createRescreener } from "../src/source/rescreen.ts";
import type { Head, PendingTx } from "../src/source/types.ts";

// Second screenings for dangerous transactions that reverted: once, after the block they were
// simulated for is mined, and only while they are still pending (the node says so).
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const tx = (n: number) => ({ hash: hash(n) }) as PendingTx;
const head = (n: number) => ({ number: BigInt(n) }) as Head;

function setUp(mined: Set<Hex>) {
  const asked: Hex[] = [];
  const upstream = {
    url: "fake",
    call: async (_method: string, params: readonly unknown[] = []) => {
      asked.push(params[0] as Hex);
      return { blockNumber: mined.has(params[0] as Hex) ? "0x9" : null };
    },
    batch: async () => [],
  } as unknown as Rpc;
  const requeued: { hash: Hex; rank: number }[] = [];
  const r = createRescreener({ upstream, requeue: (t, rank) => requeued.push({ hash: t.hash, rank }) });
  return { r, requeued, asked };
}

describe("re-screening reverted dangerous transactions", () => {
  it("queues one again, at its rank, once the block it was simulated for is mined", async () => {
    const { r, requeued, asked } = setUp(new Set());
    r.reverted(tx(1), 3, 10n);
    await r.onHead(head(9)); // the block it ran in is not mined yet
    expect(requeued).toEqual([]);
    expect(asked).toEqual([]);
    await r.onHead(head(10));
    expect(requeued).toEqual([{ hash: hash(1), rank: 3 }]);
    expect(r.count()).toBe(1);
    // Once only: it reverting again is not a reason for a third screening.
    r.reverted(tx(1), 3, 11n);
    await r.onHead(head(11));
    expect(requeued).toHaveLength(1);
  });

  it("leaves alone what the node has mined meanwhile", async () => {
    const { r, requeued } = setUp(new Set([hash(2)]));
    r.reverted(tx(2), 3, 10n);
    await r.onHead(head(10));
    expect(requeued).toEqual([]);
    expect(r.count()).toBe(0);
  });
});
