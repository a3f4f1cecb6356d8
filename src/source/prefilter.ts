import type { Address } from "viem";
import type { PendingTx } from "./types.ts";

/**
 * The cheap prefilter: a static danger rank computed from the transaction alone, no RPC. Under a
 * flood the queue serves the highest rank first and evicts the lowest. It never looks at whether
 * `to` is a protected contract: attacks go through fresh attacker contracts, often created in the
 * same transaction. What it uses instead:
 *
 * - a contract creation can run anything in its constructor: ranked like a call to a new contract;
 * - a call to an address seen rarely (a contract nobody uses yet) ranks above a call to a busy
 *   one (routers, tokens, popular pools): attack contracts are new;
 * - a large gas limit (flash loans, loops) adds to the rank;
 * - a plain value transfer without calldata cannot call into a protocol: lowest, and not
 *   simulated at all (`shouldSimulate`).
 */
export type Prefilter = {
  rank(tx: PendingTx): number;
  /** False for transactions that cannot reach a protocol's code paths worth simulating. */
  shouldSimulate(tx: PendingTx, sentinel: Address): boolean;
};

export function createPrefilter(options: { busyAfter?: number; memory?: number } = {}): Prefilter {
  const busyAfter = options.busyAfter ?? 8;
  const memory = options.memory ?? 50_000;
  const seenTo = new Map<string, number>();
  return {
    rank(tx) {
      const heavy = tx.gas >= 1_000_000n ? 1 : 0;
      if (tx.to === null) return 2 + heavy; // as dangerous as a call to a contract nobody uses yet
      if (tx.input === "0x") return 0;
      const key = tx.to.toLowerCase();
      const n = seenTo.get(key) ?? 0;
      if (n === 0 && seenTo.size >= memory) seenTo.clear(); // bounded memory; counts rebuild fast
      seenTo.set(key, n + 1);
      const novelty = n < busyAfter ? 2 : 1;
      return novelty + heavy;
    },
    shouldSimulate(tx, sentinel) {
      if (tx.from.toLowerCase() === sentinel.toLowerCase()) return false; // our own pauses
      return tx.to === null || tx.input !== "0x";
    },
  };
}
