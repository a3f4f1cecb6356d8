import type { Hex } from "viem";
import type { Simulation } from "../simulate/types.ts";
import type { Evidence } from "./types.ts";

const MAX_DEVIATION = 100;
/** Words above this are hashes or packed data, not quantities. */
export const QUANTITY_LIMIT = 1n << 200n;

/** Largest relative change between two ABI-encoded return values, word by word. */
export function wordDeviation(before: Hex, during: Hex): number {
  let max = 0;
  const words = Math.min(before.length, during.length - 0);
  for (let i = 2; i + 64 <= words; i += 64) {
    const a = BigInt(`0x${before.slice(i, i + 64)}`);
    const b = BigInt(`0x${during.slice(i, i + 64)}`);
    if (a === b || a >= QUANTITY_LIMIT || b >= QUANTITY_LIMIT) continue;
    const dev = a === 0n ? MAX_DEVIATION : Number(((a > b ? a - b : b - a) * 1_000_000n) / a) / 1_000_000;
    max = Math.max(max, Math.min(dev, MAX_DEVIATION));
  }
  return max;
}

/**
 * Values that protected contracts read during the transaction (prices, reserves, share rates,
 * oracle answers: any view call made inside their execution) compared with what the same call
 * returns before the transaction. A large gap means the transaction moved an input the protocol
 * trusts before the protocol read it: the signature of oracle manipulation, whatever the oracle.
 */
export function priceReadDeviation(sim: Simulation): { deviation: number; evidence: Evidence[] } {
  let deviation = 0;
  const evidence: Evidence[] = [];
  for (const r of sim.references.reads) {
    if (r.before === undefined || r.before === r.during) continue;
    const dev = wordDeviation(r.before, r.during);
    if (dev <= 0) continue;
    deviation = Math.max(deviation, dev);
    evidence.push({
      frames: [r.path],
      detail: `${r.protectedContext} read ${r.to} (${r.input.slice(0, 10)}) and got a value ${(dev * 100).toFixed(1)}% away from its pre-transaction value`,
    });
  }
  evidence.sort((a, b) => b.detail.length - a.detail.length);
  return { deviation, evidence };
}
