import { type Address, getAddress, type Hex } from "viem";
import type { CallFrame } from "../simulate/types.ts";
import { QUANTITY_LIMIT } from "./price-read.ts";
import { indexFrames, netByToken, type TraceIndex } from "./trace-index.ts";
import type { Evidence } from "./types.ts";

/**
 * Each protected contract's own normal activity, learned from the call traces of transactions
 * mined in recent blocks: which functions are called on it and by whom, how much of each token
 * leaves it in one transaction, and the range of every value it reads from other contracts
 * (prices, reserves, share rates). A pending transaction is then compared with that history:
 * an outflow far beyond anything the contract has paid out, a read outside every value it has
 * seen, a function nobody calls. Until a contract has enough history the comparison says
 * nothing (`mature` is false), so a freshly protected contract is judged by mechanics alone.
 */

export type BaselineOptions = {
  /** Transactions a contract must have been seen in before its history is used. */
  minObservations: number;
  /** Most recent transactions kept per contract (older ones are forgotten, so history follows the protocol). */
  window: number;
};

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = { minObservations: 20, window: 2_000 };

/** How one pending transaction compares with its protected contracts' history (0s when immature). */
export type BaselineDeviation = {
  /** True if some touched protected contract had enough history for the values below to mean anything. */
  mature: boolean;
  /** Transactions in the history of the most-observed touched protected contract. */
  observations: number;
  /**
   * log10 of (net outflow of a token in this tx / the largest net outflow of that token in the
   * history); 0 when within history. An outflow of a token the contract never paid out counts as 1.
   */
  outflowExcess: number;
  /** How far outside its historical range a value read by a protected contract lies, relative to the range's edge. */
  readExcess: number;
  /** 1 if a protected contract was called with a function selector absent from its history. */
  novelSelector: number;
  /** 1 if a direct caller of a protected contract is absent from its history. */
  novelCaller: number;
  evidence: Evidence[];
};

export const NEUTRAL_DEVIATION: BaselineDeviation = {
  mature: false,
  observations: 0,
  outflowExcess: 0,
  readExcess: 0,
  novelSelector: 0,
  novelCaller: 0,
  evidence: [],
};

const READ_WORDS = 4;
const MAX_EXCESS = 100;
/** A read series needs this many values before a value outside its range is called a deviation. */
const MIN_READS = 5;

type Observation = {
  block: bigint;
  selectors: Hex[];
  callers: Address[];
  outflows: [Address | "ETH", bigint][];
  reads: [string, (bigint | undefined)[]][];
};

type Range = { min: bigint; max: bigint };

/** What one transaction showed about one protected contract. */
type Touch = Omit<Observation, "block"> & { readPaths: Map<string, number[]> };

/**
 * Frames that belong to protected contract `p`: its direct CALLs (selector and caller), the
 * view calls it made itself (reads) and its net token flow.
 */
function touchOf(p: Address, index: TraceIndex): Touch | undefined {
  const selectors = new Set<Hex>();
  const callers = new Set<Address>();
  const reads = new Map<string, (bigint | undefined)[]>();
  const readPaths = new Map<string, number[]>();
  let ran = false;
  for (const f of index.frames) {
    if (f.to === p && f.type !== "STATICCALL" && f.type !== "DELEGATECALL") {
      ran = true;
      if (f.type === "CALL" || f.type === "CALLCODE") {
        selectors.add(f.input.length >= 10 ? (f.input.slice(0, 10) as Hex) : "0x");
        callers.add(f.from);
      }
    }
    if (f.from === p && f.type === "STATICCALL" && f.output.length > 2) {
      const key = `${f.to}:${f.input}`;
      const words: (bigint | undefined)[] = [];
      for (let i = 0; i < READ_WORDS && 2 + (i + 1) * 64 <= f.output.length; i++) {
        const w = BigInt(`0x${f.output.slice(2 + i * 64, 2 + (i + 1) * 64)}`);
        words.push(w < QUANTITY_LIMIT ? w : undefined);
      }
      reads.set(key, words); // the last answer in the tx is what the contract acted on
      readPaths.set(key, f.path);
    }
  }
  const outflows: [Address | "ETH", bigint][] = [];
  for (const [token, n] of netByToken(index.flows, new Set([p]))) {
    if (n < 0n) outflows.push([token, -n]);
  }
  if (!ran && outflows.length === 0) return undefined;
  return {
    selectors: [...selectors],
    callers: [...callers],
    outflows,
    reads: [...reads.entries()],
    readPaths,
  };
}

class ContractHistory {
  readonly observations: Observation[] = [];
  private selectors = new Map<Hex, number>();
  private callers = new Map<Address, number>();
  private outflowMax = new Map<Address | "ETH", bigint>();
  private reads = new Map<string, { n: number; words: (Range | undefined)[] }>();
  private dirty = false;

  constructor(private readonly window: number) {}

  add(o: Observation) {
    this.observations.push(o);
    if (this.observations.length > this.window) {
      this.observations.shift();
      this.dirty = true; // a maximum may have left the window: rebuild lazily
      return;
    }
    if (!this.dirty) this.fold(o);
  }

  private fold(o: Observation) {
    for (const s of o.selectors) this.selectors.set(s, (this.selectors.get(s) ?? 0) + 1);
    for (const c of o.callers) this.callers.set(c, (this.callers.get(c) ?? 0) + 1);
    for (const [t, a] of o.outflows) if (a > (this.outflowMax.get(t) ?? 0n)) this.outflowMax.set(t, a);
    for (const [key, words] of o.reads) {
      const r = this.reads.get(key) ?? { n: 0, words: [] };
      r.n++;
      words.forEach((w, i) => {
        if (w === undefined) return;
        const cur = r.words[i];
        r.words[i] = cur
          ? { min: w < cur.min ? w : cur.min, max: w > cur.max ? w : cur.max }
          : { min: w, max: w };
      });
      this.reads.set(key, r);
    }
  }

  private fresh() {
    if (!this.dirty) return this;
    this.selectors.clear();
    this.callers.clear();
    this.outflowMax.clear();
    this.reads.clear();
    for (const o of this.observations) this.fold(o);
    this.dirty = false;
    return this;
  }

  view() {
    const h = this.fresh();
    return { selectors: h.selectors, callers: h.callers, outflowMax: h.outflowMax, reads: h.reads };
  }
}

/** Relative distance of `v` outside [min, max]; 0 inside. */
function outside(v: bigint, r: Range): number {
  const rel = (d: bigint, base: bigint) =>
    base === 0n ? MAX_EXCESS : Math.min(MAX_EXCESS, Number((d * 1_000_000n) / base) / 1_000_000);
  if (v > r.max) return rel(v - r.max, r.max);
  if (v < r.min) return rel(r.min - v, r.min);
  return 0;
}

export class ProtocolBaseline {
  private readonly histories = new Map<Address, ContractHistory>();
  private readonly seen = new Set<Hex>();
  private readonly seenOrder: Hex[] = [];
  readonly options: BaselineOptions;

  constructor(protectedAddresses: readonly Address[], options: Partial<BaselineOptions> = {}) {
    this.options = { ...DEFAULT_BASELINE_OPTIONS, ...options };
    if (!(this.options.minObservations >= 1) || !(this.options.window >= this.options.minObservations)) {
      throw new RangeError("baseline: need minObservations >= 1 and window >= minObservations");
    }
    for (const a of protectedAddresses)
      this.histories.set(getAddress(a), new ContractHistory(this.options.window));
  }

  /** Transactions in each protected contract's history. */
  counts(): Record<Address, number> {
    const out: Record<Address, number> = {};
    for (const [a, h] of this.histories) out[a] = h.observations.length;
    return out;
  }

  /**
   * Fold one mined transaction's call tree into the history of every protected contract it
   * touched. A transaction is counted once, however often it is offered (idempotent by hash);
   * reverted transactions changed nothing and are skipped.
   */
  observe(txHash: Hex, root: CallFrame, block: bigint): void {
    if (this.seen.has(txHash) || root.error) return;
    this.seen.add(txHash);
    this.seenOrder.push(txHash);
    if (this.seenOrder.length > 4 * this.options.window) this.seen.delete(this.seenOrder.shift() as Hex);
    const index = indexFrames(root);
    for (const [p, h] of this.histories) {
      const t = touchOf(p, index);
      if (!t) continue;
      h.add({ block, selectors: t.selectors, callers: t.callers, outflows: t.outflows, reads: t.reads });
    }
  }

  /** How a (pending, simulated) transaction's call tree compares with the history. Pure. */
  deviation(root: CallFrame, index: TraceIndex = indexFrames(root)): BaselineDeviation {
    const d: BaselineDeviation = { ...NEUTRAL_DEVIATION, evidence: [] };
    for (const [p, h] of this.histories) {
      const t = touchOf(p, index);
      if (!t) continue;
      const n = h.observations.length;
      d.observations = Math.max(d.observations, n);
      if (n < this.options.minObservations) continue;
      d.mature = true;
      const view = h.view();
      for (const [token, amount] of t.outflows) {
        const max = view.outflowMax.get(token);
        const excess =
          max === undefined || max === 0n ? 1 : Math.log10(Number((amount * 1000n) / max) / 1000 || 1e-3);
        if (excess <= 0) continue;
        d.outflowExcess = Math.max(d.outflowExcess, Math.min(excess, 10));
        d.evidence.push({
          frames: index.flows.filter((f) => f.token === token && f.from === p).map((f) => f.path),
          detail:
            max === undefined || max === 0n
              ? `${p} paid out ${amount} of ${token}, a token it never paid out in its last ${n} transactions`
              : `${p} paid out ${amount} of ${token}, ${(10 ** excess).toFixed(1)}x the most it paid out in one of its last ${n} transactions`,
        });
      }
      for (const [key, words] of t.reads) {
        const r = view.reads.get(key);
        if (!r || r.n < MIN_READS) continue;
        let worst = 0;
        words.forEach((w, i) => {
          const range = r.words[i];
          if (w !== undefined && range) worst = Math.max(worst, outside(w, range));
        });
        if (worst <= 0) continue;
        d.readExcess = Math.max(d.readExcess, worst);
        d.evidence.push({
          frames: [t.readPaths.get(key) ?? []],
          detail: `${p} read ${key.slice(0, 53)} and got a value ${(worst * 100).toFixed(1)}% outside every answer of its last ${r.n} reads`,
        });
      }
      const novelSel = t.selectors.filter((s) => !view.selectors.has(s));
      if (novelSel.length > 0) {
        d.novelSelector = 1;
        d.evidence.push({
          frames: [],
          detail: `${p} was called with ${novelSel.join(", ")}, never called in its last ${n} transactions`,
        });
      }
      if (t.callers.some((c) => !view.callers.has(c))) d.novelCaller = 1;
    }
    return d;
  }
}
