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
 * - so does calldata that names a protected contract (an attack contract is often told its
 *   victim as an argument; a token approval to it names it too, but to a busy token with little
 *   gas). An attacker who calls its contract a few times first, to make it look busy, still
 *   ranks high if its call is heavy and names its target. Rank 3 and above is the fast lane;
 * - a plain value transfer without calldata cannot call into a protocol: lowest, and not
 *   simulated at all (`shouldSimulate`).
 */
export type Prefilter = {
  rank(tx: PendingTx): number;
  /** False for transactions that cannot reach a protocol's code paths worth simulating. */
  shouldSimulate(tx: PendingTx, sentinel: Address): boolean;
};

export function createPrefilter(
  options: { busyAfter?: number; memory?: number; protectedAddresses?: readonly Address[] } = {},
): Prefilter {
  const busyAfter = options.busyAfter ?? 8;
  const memory = options.memory ?? 50_000;
  const seenTo = new Map<string, number>();
  const named = (options.protectedAddresses ?? []).map((a) => a.slice(2).toLowerCase());
  /** Whether calldata (or init code) holds a protected contract's address, in any encoding. */
  const namesProtected = (input: string) => {
    if (named.length === 0 || input.length < 42) return false;
    const hex = input.toLowerCase();
    return named.some((a) => hex.includes(a));
  };
  return {
    rank(tx) {
      const heavy = tx.gas >= 1_000_000n ? 1 : 0;
      const names = namesProtected(tx.input) ? 1 : 0;
      // A creation is as dangerous as a call to a contract nobody uses yet.
      if (tx.to === null) return 2 + heavy + names;
      if (tx.input === "0x") return 0;
      const key = tx.to.toLowerCase();
      const n = seenTo.get(key) ?? 0;
      if (n === 0 && seenTo.size >= memory) seenTo.clear(); // bounded memory; counts rebuild fast
      seenTo.set(key, n + 1);
      const novelty = n < busyAfter ? 2 : 1;
      return novelty + heavy + names;
    },
    shouldSimulate(tx, sentinel) {
      if (tx.from.toLowerCase() === sentinel.toLowerCase()) return false; // our own pauses
      return tx.to === null || tx.input !== "0x";
    },
  };
}
