import type { Address, Hex } from "viem";
import type { Rpc } from "../internal/rpc.ts";

/**
 * Pre-transaction references: what the values a protected contract reads during a transaction
 * were before it (its view calls, token balances, pools' reserves, native balances). A simulation
 * asks for them once it has the call tree, in one batch: on a busy node that batch cost as much
 * as the tree itself (attack p50 at 200 tx/s: the tree 4.1 ms, the references 7 more).
 *
 * Yet the references of a protected contract are much the same from one transaction to the
 * next: the oracle it reads, the pool behind it, its own token balances. They depend on the
 * state and the block, not on the transaction. So the simulations note which references they
 * needed (`ReferenceMemory`), and a dangerous call's are read alongside its call tree, at the
 * same block in the same block context (`readReferences`): the simulation then takes those it
 * needs from there and asks only for the others.
 */

/** One reference read: a view call as a protected contract made it, or a native balance. */
export type ReferenceRequest =
  | { kind: "call"; from?: Address; to: Address; data: Hex }
  | { kind: "balance"; holder: Address };

export function referenceKey(r: ReferenceRequest): string {
  return r.kind === "call"
    ? `call:${(r.from ?? "").toLowerCase()}:${r.to.toLowerCase()}:${r.data.toLowerCase()}`
    : `balance:${r.holder.toLowerCase()}`;
}

/** Where references are read: a block (tag), state put in place, and the block context. */
export type ReferenceSite = {
  /** Block tag: "latest" on a fork, a number on the node. */
  at: string;
  /** State overrides (an overlay's accounts), if any. */
  state?: unknown;
  /** `blockOverrides` of the block the transaction would be mined in. */
  block: { number: string; time: string };
};

/**
 * Answers by key: the call's output (or balance), null if the node answered with an error (a
 * reference that does not exist); the promise rejects if the node could not be asked at all.
 */
export type ReferenceAnswers = ReadonlyMap<string, Promise<Hex | null>>;

/** References read already, and the block context they were read in. */
export type ReadReferences = {
  /** The block the transaction would be mined in (their state is the block before). */
  number: bigint;
  timestamp: bigint;
  answers: ReferenceAnswers;
};

/** Reads `requests` (duplicates once) in one JSON-RPC batch at `site`. */
export function readReferences(
  rpc: Pick<Rpc, "batch">,
  requests: readonly ReferenceRequest[],
  site: ReferenceSite,
): Map<string, Promise<Hex | null>> {
  const unique = new Map<string, ReferenceRequest>();
  for (const r of requests) unique.set(referenceKey(r), r);
  const out = new Map<string, Promise<Hex | null>>();
  if (unique.size === 0) return out;
  const list = [...unique.values()];
  const batch = rpc.batch<Hex>(
    list.map((r) =>
      r.kind === "call"
        ? {
            method: "eth_call",
            params: [
              { ...(r.from ? { from: r.from } : {}), to: r.to, data: r.data },
              site.at,
              site.state ?? null,
              site.block,
            ],
          }
        : { method: "eth_getBalance", params: [r.holder, site.at] },
    ),
  );
  list.forEach((r, i) => {
    out.set(
      referenceKey(r),
      batch.then((answers) => {
        const a = answers[i];
        return typeof a === "string" ? a : null;
      }),
    );
  });
  return out;
}

/** Which references recent simulations needed: what a dangerous call's screening reads ahead. */
export type ReferenceMemory = {
  /** Notes the references a simulation at head `head` needed. */
  note(requests: readonly ReferenceRequest[], head: bigint): void;
  /** The remembered requests, most recently needed first, none unused for `keepHeads` heads. */
  requests(head: bigint): ReferenceRequest[];
  readonly size: number;
};

export function createReferenceMemory(options: { max?: number; keepHeads?: bigint } = {}): ReferenceMemory {
  const max = options.max ?? 64;
  const keepHeads = options.keepHeads ?? 32n;
  /** By key, in order of last use (a Map keeps insertion order: re-inserted on use). */
  const known = new Map<string, { request: ReferenceRequest; head: bigint }>();
  return {
    note(requests, head) {
      for (const request of requests) {
        const key = referenceKey(request);
        known.delete(key);
        known.set(key, { request, head });
      }
      while (known.size > max) known.delete(known.keys().next().value as string);
    },
    requests(head) {
      const out: ReferenceRequest[] = [];
      for (const [key, k] of known) {
        if (k.head + keepHeads < head) known.delete(key);
        else out.push(k.request);
      }
      return out.reverse();
    },
    get size() {
      return known.size;
    },
  };
}

/**
 * The answers to `requests` at `site`: those in `known` (read already at the same state and
 * block context; the caller checks) taken from there, the others asked for in one batch sent at
 * once, and any `known` could not get asked again. A reference the node cannot give is null.
 */
export async function answerReferences(
  rpc: Pick<Rpc, "batch">,
  requests: readonly ReferenceRequest[],
  site: ReferenceSite,
  known?: ReferenceAnswers,
): Promise<Map<string, Hex | null>> {
  const asked = readReferences(
    rpc,
    requests.filter((r) => !known?.has(referenceKey(r))),
    site,
  );
  const out = new Map<string, Hex | null>();
  const failed: ReferenceRequest[] = [];
  await Promise.all(
    requests.map(async (r) => {
      const key = referenceKey(r);
      const answer = known?.get(key);
      if (!answer) return;
      try {
        out.set(key, await answer);
      } catch {
        failed.push(r);
      }
    }),
  );
  const again = readReferences(rpc, failed, site);
  for (const [key, answer] of [...asked, ...again]) out.set(key, await answer.catch(() => null));
  return out;
}
