import type { Hex } from "viem";
import type { Rpc } from "../internal/rpc.ts";
import type { Head, PendingTx } from "./types.ts";

/** Reverted dangerous transactions screened again per head, at most. */
const MAX_PER_HEAD = 64;
/** Hashes remembered so that a transaction is screened again once only. */
const MEMORY = 10_000;

/**
 * Second screenings for transactions that reverted but looked dangerous. The daemon's head lags
 * the node's by a notification: an attack sent the moment the block that enables it lands reverts
 * on the previous state. Such a transaction, still pending once the block it was simulated for is
 * mined, goes back into the queue (at its rank) once.
 */
export function createRescreener(options: {
  upstream: Rpc;
  requeue: (tx: PendingTx, priority: number) => void;
}) {
  const waiting = new Map<Hex, { tx: PendingTx; rank: number; block: bigint }>();
  const done = new Set<Hex>();
  let count = 0;
  return {
    /** A dangerous transaction that reverted when simulated for `block`. */
    reverted(tx: PendingTx, rank: number, block: bigint): void {
      if (done.has(tx.hash) || waiting.size >= MAX_PER_HEAD) return;
      done.add(tx.hash);
      if (done.size > MEMORY) done.delete(done.values().next().value as Hex);
      waiting.set(tx.hash, { tx, rank, block });
    },
    /** Queues again what was simulated for a block now mined, if it is still pending. */
    async onHead(head: Head): Promise<void> {
      for (const [hash, w] of waiting) {
        if (head.number < w.block) continue;
        waiting.delete(hash);
        const onChain = await options.upstream
          .call<{ blockNumber: Hex | null } | null>("eth_getTransactionByHash", [hash])
          .catch(() => null);
        if (onChain && onChain.blockNumber === null) {
          count++;
          options.requeue(w.tx, w.rank);
        }
      }
    },
    /** Transactions queued for a second screening so far. */
    count: () => count,
  };
}
