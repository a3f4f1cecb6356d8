import { type Address, getAddress, type Hex } from "viem";
import { TRANSFER_TOPIC } from "../simulate/simulate.ts";
import type { CallFrame, Simulation, TraceLog } from "../simulate/types.ts";

/** An ERC-20 Transfer (or native value move) seen in the trace, in execution order. */
export type Flow = {
  seq: number;
  token: Address | "ETH";
  from: Address;
  to: Address;
  amount: bigint;
  /** Frame that emitted the log (or moved the value). */
  path: number[];
};

/**
 * One pass over a simulation's call tree: every successful frame, every value flow in execution
 * order (ERC-20 Transfer logs and native value), and each frame's range of flow sequence numbers,
 * so that features can ask "what moved inside this call, before or after that callback".
 */
export type TraceIndex = {
  frames: CallFrame[];
  flows: Flow[];
  /** [first seq, end seq) of the flows inside each frame's subtree, by path key. */
  range: Map<string, [number, number]>;
  created: Set<Address>;
  /** Addresses whose code ran (frame targets), excluding precompiles. */
  executed: Set<Address>;
  maxDepth: number;
};

export const pathKey = (path: readonly number[]): string => path.join(".");

function topicAddress(topic: Hex | undefined): Address | undefined {
  if (!topic || topic.length !== 66) return undefined;
  return getAddress(`0x${topic.slice(26)}`);
}

function transferOf(log: TraceLog): Omit<Flow, "seq" | "path"> | undefined {
  if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3 || log.data.length < 66) return undefined;
  const from = topicAddress(log.topics[1]);
  const to = topicAddress(log.topics[2]);
  if (!from || !to) return undefined;
  return { token: log.address, from, to, amount: BigInt(log.data.slice(0, 66)) };
}

export function indexTrace(sim: Simulation): TraceIndex {
  return indexFrames(sim.root);
}

/** The same index for a bare call tree (a mined transaction's trace, for the baseline). */
export function indexFrames(root: CallFrame): TraceIndex {
  const frames: CallFrame[] = [];
  const flows: Flow[] = [];
  const range = new Map<string, [number, number]>();
  const created = new Set<Address>();
  const executed = new Set<Address>();
  let maxDepth = 0;

  const visit = (f: CallFrame) => {
    if (f.error) return; // nothing a failed frame did remains
    frames.push(f);
    maxDepth = Math.max(maxDepth, f.path.length);
    if (f.type === "CREATE" || f.type === "CREATE2") created.add(f.to);
    if (f.type !== "DELEGATECALL") executed.add(f.to);
    const start = flows.length;
    if (f.value > 0n && f.type !== "DELEGATECALL") {
      flows.push({ seq: flows.length, token: "ETH", from: f.from, to: f.to, amount: f.value, path: f.path });
    }
    let next = 0;
    for (let i = 0; i <= f.calls.length; i++) {
      while (next < f.logs.length && (f.logs[next] as TraceLog).position <= i) {
        const t = transferOf(f.logs[next] as TraceLog);
        if (t) flows.push({ ...t, seq: flows.length, path: f.path });
        next++;
      }
      const child = f.calls[i];
      if (child) visit(child);
    }
    for (; next < f.logs.length; next++) {
      const t = transferOf(f.logs[next] as TraceLog);
      if (t) flows.push({ ...t, seq: flows.length, path: f.path });
    }
    range.set(pathKey(f.path), [start, flows.length]);
  };
  visit(root);
  return { frames, flows, range, created, executed, maxDepth };
}

/**
 * The sender's side: the sender, contracts the tx created, and the contract it called directly
 * unless that is a protected contract. Attack contracts are usually one of these.
 */
export function senderSide(sim: Simulation, index: TraceIndex, from: Address): Set<Address> {
  const side = new Set<Address>([getAddress(from)]);
  for (const c of index.created) side.add(c);
  const protectedSet = new Set(sim.protectedAddresses.map((a) => getAddress(a)));
  const root = sim.root;
  if (root.type !== "CREATE" && root.type !== "CREATE2" && !protectedSet.has(root.to)) side.add(root.to);
  return side;
}

/** Net amount per token that `holders` received (positive) or gave (negative) over `flows`. */
export function netByToken(
  flows: readonly Flow[],
  holders: ReadonlySet<Address>,
): Map<Address | "ETH", bigint> {
  const net = new Map<Address | "ETH", bigint>();
  for (const f of flows) {
    const inside = holders.has(f.to);
    const outside = holders.has(f.from);
    if (inside === outside) continue; // internal moves cancel out
    net.set(f.token, (net.get(f.token) ?? 0n) + (inside ? f.amount : -f.amount));
  }
  return net;
}

/** a / b as a float, safe for huge bigints. */
export function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return a === 0n ? 0 : Number.POSITIVE_INFINITY;
  const scale = 1_000_000n;
  return Number((a * scale) / b) / Number(scale);
}
