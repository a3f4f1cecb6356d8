import { type Address, getAddress, type Hex } from "viem";
import { describeError, VigilError } from "../internal/errors.ts";
import type { PendingTx } from "../source/types.ts";
import type { Fork } from "./forks.ts";
import type {
  AccountState,
  BalanceReference,
  BlockContext,
  CallFrame,
  ReadReference,
  ReserveReference,
  Simulation,
  StateDiff,
  TraceLog,
} from "./types.ts";

export class SimulationError extends VigilError {
  override name = "SimulationError";
}

/** keccak256("Transfer(address,address,uint256)") */
export const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
/** keccak256("Sync(uint112,uint112)"), emitted by Uniswap-V2-style pools with their new reserves. */
export const SYNC_TOPIC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1";
const BALANCE_OF = "0x70a08231";
const GET_RESERVES = "0x0902f1ac";
const MAX_READS = 64;

type RawLog = { address: string; topics?: string[]; data?: string; position?: string | number };
export type RawFrame = {
  type: string;
  from: string;
  to?: string;
  input?: string;
  output?: string;
  value?: string;
  gasUsed?: string;
  error?: string;
  revertReason?: string;
  logs?: RawLog[];
  calls?: RawFrame[];
};
type RawAccount = { balance?: string; nonce?: number; code?: string; storage?: Record<string, string> };

const hexOr0 = (v: string | undefined): bigint => (v && v !== "0x" ? BigInt(v) : 0n);

/** Normalises a callTracer frame tree: checksummed addresses, bigints, paths. */
export function normaliseFrame(raw: RawFrame, path: number[] = []): CallFrame {
  const logs: TraceLog[] = (raw.logs ?? []).map((l) => ({
    address: getAddress(l.address),
    topics: (l.topics ?? []) as Hex[],
    data: (l.data ?? "0x") as Hex,
    position: Number(l.position ?? 0),
  }));
  return {
    path,
    type: raw.type,
    from: getAddress(raw.from),
    to: raw.to ? getAddress(raw.to) : ("0x0000000000000000000000000000000000000000" as Address),
    input: (raw.input ?? "0x") as Hex,
    output: (raw.output ?? "0x") as Hex,
    value: hexOr0(raw.value),
    gasUsed: hexOr0(raw.gasUsed),
    error: raw.error,
    revertReason: raw.revertReason,
    logs,
    calls: (raw.calls ?? []).map((c, i) => normaliseFrame(c, [...path, i])),
  };
}

function normaliseAccounts(raw: Record<string, RawAccount> | undefined): Record<Address, AccountState> {
  const out: Record<Address, AccountState> = {};
  for (const [addr, a] of Object.entries(raw ?? {})) {
    const state: AccountState = {};
    if (a.balance !== undefined) state.balance = BigInt(a.balance);
    if (a.nonce !== undefined) state.nonce = a.nonce;
    if (a.code !== undefined) state.code = a.code as Hex;
    if (a.storage !== undefined) state.storage = a.storage as Record<Hex, Hex>;
    out[getAddress(addr)] = state;
  }
  return out;
}

/** Depth-first walk over every frame. */
export function* frames(root: CallFrame): Generator<CallFrame> {
  const stack = [root];
  while (stack.length > 0) {
    const f = stack.pop() as CallFrame;
    yield f;
    for (let i = f.calls.length - 1; i >= 0; i--) stack.push(f.calls[i] as CallFrame);
  }
}

/** Every log of successful frames, in emission order, with the frame it came from. */
export function logsInOrder(root: CallFrame): { log: TraceLog; frame: CallFrame }[] {
  const out: { log: TraceLog; frame: CallFrame }[] = [];
  const visit = (f: CallFrame) => {
    if (f.error) return; // a reverted frame's logs never happened
    let next = 0;
    for (let i = 0; i <= f.calls.length; i++) {
      while (next < f.logs.length && (f.logs[next] as TraceLog).position <= i) {
        out.push({ log: f.logs[next] as TraceLog, frame: f });
        next++;
      }
      const child = f.calls[i];
      if (child) visit(child);
    }
    while (next < f.logs.length) out.push({ log: f.logs[next++] as TraceLog, frame: f });
  };
  visit(root);
  return out;
}

/** Reads (STATICCALLs with output) made inside a protected contract's execution. */
function protectedReads(root: CallFrame, isProtected: (a: Address) => boolean) {
  const reads: { frame: CallFrame; context: Address }[] = [];
  const seen = new Set<string>();
  const visit = (f: CallFrame, context: Address | undefined) => {
    if (reads.length >= MAX_READS) return;
    if (context && f.type === "STATICCALL" && !f.error && f.output.length >= 66) {
      // The same view read twice with different answers (before and after a manipulation inside
      // the transaction) is two readings: keep every distinct answer, not only the first.
      const key = `${f.to}:${f.input}:${f.output}`;
      if (!seen.has(key)) {
        seen.add(key);
        reads.push({ frame: f, context });
      }
    }
    // The context is the nearest protected contract whose code is running (delegatecalls keep it).
    const inner = isProtected(f.to) && f.type !== "DELEGATECALL" ? f.to : context;
    for (const c of f.calls) visit(c, inner);
  };
  visit(root, undefined);
  return reads;
}

export type SimulateOptions = {
  protectedAddresses: readonly Address[];
  /** Upper bound on the gas a simulation may use. */
  gasCap: bigint;
};

function overrides(ctx: BlockContext) {
  return { number: `0x${ctx.number.toString(16)}`, time: `0x${ctx.timestamp.toString(16)}` };
}

/**
 * Runs a pending transaction as its sender on a fork at the next block's context (number and
 * timestamp overridden) and returns its call tree with logs, state diff and the references the
 * features compare against: what each value read by a protected contract returned before the
 * transaction, protected contracts' token balances before, and pools' reserves before.
 */
export async function simulateTx(
  fork: Fork,
  tx: PendingTx,
  ctx: BlockContext,
  options: SimulateOptions,
): Promise<Simulation> {
  const started = performance.now();
  const protectedSet = new Set(options.protectedAddresses.map((a) => a.toLowerCase()));
  const isProtected = (a: Address) => protectedSet.has(a.toLowerCase());
  const gas = tx.gas < options.gasCap ? tx.gas : options.gasCap;
  const call: Record<string, string> = {
    from: tx.from,
    data: tx.input,
    value: `0x${tx.value.toString(16)}`,
    gas: `0x${gas.toString(16)}`,
  };
  if (tx.to) call.to = tx.to;
  const blockOverrides = overrides(ctx);

  type RawDiff = { pre?: Record<string, RawAccount>; post?: Record<string, RawAccount> };
  const trace = <T>(tracer: object): Promise<T> =>
    fork.rpc
      .call<T>("debug_traceCall", [call, "latest", { ...tracer, blockOverrides }])
      .catch((error: unknown) => {
        throw new SimulationError(`could not simulate ${tx.hash}`, {
          details: [describeError(error)],
          hint: "check the fork pool is healthy and the upstream node answers debug_traceCall",
          cause: error,
        });
      });
  const root = normaliseFrame(
    await trace<RawFrame>({ tracer: "callTracer", tracerConfig: { withLog: true } }),
  );

  // Pre-transaction references, all read in parallel on the untouched fork state.
  const ethCall = async (from: Address | undefined, to: Address, data: Hex): Promise<Hex | undefined> => {
    try {
      return await fork.rpc.call<Hex>("eth_call", [
        { ...(from ? { from } : {}), to, data },
        "latest",
        null,
        blockOverrides,
      ]);
    } catch {
      return undefined;
    }
  };
  const reads = protectedReads(root, isProtected);
  const logs = logsInOrder(root).map((l) => l.log);
  // Pools' reserves only matter when a protected contract is involved: skip the reads otherwise.
  let touched = false;
  for (const f of frames(root)) if (isProtected(f.to)) touched = true;
  for (const log of logs) {
    if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
    for (const t of [log.topics[1], log.topics[2]])
      if (isProtected(getAddress(`0x${(t ?? "").slice(26)}`))) touched = true;
  }
  const balancePairs = new Map<string, { token: Address; holder: Address }>();
  const pools = new Set<Address>();
  for (const log of logs) {
    const topic = log.topics[0];
    if (topic === TRANSFER_TOPIC && log.topics.length === 3) {
      for (const t of [log.topics[1], log.topics[2]]) {
        const holder = getAddress(`0x${(t ?? "").slice(26)}`);
        if (isProtected(holder)) balancePairs.set(`${log.address}:${holder}`, { token: log.address, holder });
      }
    } else if (topic === SYNC_TOPIC && touched) {
      pools.add(log.address);
    }
  }
  // One pre-transaction call per distinct read, however many answers it had during the tx.
  const beforeByRead = new Map<string, Promise<Hex | undefined>>();
  const before = (from: Address, to: Address, input: Hex) => {
    const key = `${from}:${to}:${input}`;
    let p = beforeByRead.get(key);
    if (!p) {
      p = ethCall(from, to, input);
      beforeByRead.set(key, p);
    }
    return p;
  };
  /** The simulation, from the call tree and whatever enrichment was collected. */
  const result = (
    stateDiff: StateDiff,
    enriched: boolean,
    references: Simulation["references"],
  ): Simulation => ({
    txHash: tx.hash,
    context: ctx,
    success: root.error === undefined,
    error: root.error === undefined ? undefined : (root.revertReason ?? root.error),
    gasUsed: root.gasUsed,
    root,
    stateDiff,
    enriched,
    references,
    protectedAddresses: [...options.protectedAddresses],
    durationMs: performance.now() - started,
  });
  if (!touched) {
    // Most traffic never reaches a protected contract: the call tree says so, and the second
    // trace (state diff) and the references would describe nothing the features use.
    return result({ pre: {}, post: {} }, false, { reads: [], balances: [], reserves: [] });
  }
  const diffPromise = trace<RawDiff>({ tracer: "prestateTracer", tracerConfig: { diffMode: true } });
  const [readRefs, balanceRefs, reserveRefs] = await Promise.all([
    Promise.all(
      reads.map(
        async ({ frame, context }): Promise<ReadReference> => ({
          path: frame.path,
          protectedContext: context,
          to: frame.to,
          input: frame.input,
          during: frame.output,
          before: await before(frame.from, frame.to, frame.input),
        }),
      ),
    ),
    Promise.all(
      [...balancePairs.values()].map(async ({ token, holder }): Promise<BalanceReference> => {
        const out = await ethCall(
          undefined,
          token,
          `${BALANCE_OF}${holder.slice(2).toLowerCase().padStart(64, "0")}`,
        );
        return { token, holder, before: out && out.length >= 66 ? BigInt(out.slice(0, 66)) : 0n };
      }),
    ),
    Promise.all(
      [...pools].map(async (pool): Promise<ReserveReference | undefined> => {
        const out = await ethCall(undefined, pool, GET_RESERVES);
        if (!out || out.length < 130) return undefined;
        return {
          pool,
          reserve0: BigInt(`0x${out.slice(2, 66)}`),
          reserve1: BigInt(`0x${out.slice(66, 130)}`),
        };
      }),
    ),
  ]);

  const rawDiff = await diffPromise;
  const stateDiff: StateDiff = { pre: normaliseAccounts(rawDiff.pre), post: normaliseAccounts(rawDiff.post) };
  return result(stateDiff, true, {
    reads: readRefs,
    balances: balanceRefs,
    reserves: reserveRefs.filter((r): r is ReserveReference => r !== undefined),
  });
}

/** The context of the block after `head`: number + 1, and a timestamp at least one second later. */
export function nextBlockContext(
  head: { number: bigint; timestamp: bigint; baseFeePerGas: bigint | null; hash: Hex },
  nowSeconds: number = Math.floor(Date.now() / 1000),
): BlockContext {
  const ts = BigInt(Math.max(Number(head.timestamp) + 1, nowSeconds));
  return {
    number: head.number + 1n,
    timestamp: ts,
    baseFeePerGas: head.baseFeePerGas,
    parentHash: head.hash,
  };
}
