import { type Address, getAddress, type Hex } from "viem";
import { describeError, VigilError } from "../internal/errors.ts";
import { rebuildRawTransaction } from "../source/raw.ts";
import type { PendingTx } from "../source/types.ts";
import type { Fork } from "./forks.ts";
import { answerReferences, type ReadReferences, type ReferenceRequest, referenceKey } from "./references.ts";
import type {
  AccountState,
  BalanceReference,
  BlockContext,
  CallFrame,
  ReadReference,
  ReserveReference,
  Simulation,
  StateDiff,
  StateOverlay,
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

/**
 * The protected contracts a transaction involves, from its call tree alone: those it calls into
 * (at any depth) and those whose tokens it moves. Empty when it involves none.
 */
export function involvedProtected(root: CallFrame, isProtected: (a: Address) => boolean): Address[] {
  const hit = new Set<Address>();
  for (const f of frames(root)) if (isProtected(f.to)) hit.add(f.to);
  for (const { log } of logsInOrder(root)) {
    if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
    for (const t of [log.topics[1], log.topics[2]]) {
      const holder = getAddress(`0x${(t ?? "").slice(26)}`);
      if (isProtected(holder)) hit.add(holder);
    }
  }
  return [...hit];
}

/** Whether tokens leave a protected contract in the call tree (a successful frame's Transfer). */
export function protectedOutflow(root: CallFrame, isProtected: (a: Address) => boolean): boolean {
  for (const { log } of logsInOrder(root)) {
    if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
    if (isProtected(getAddress(`0x${(log.topics[1] ?? "").slice(26)}`))) return true;
  }
  for (const f of frames(root)) if (f.value > 0n && isProtected(f.from) && !f.error) return true;
  return false;
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
  /**
   * Called with the call tree as soon as it is known, before the enrichment (state diff and
   * references) starts: work that needs only the tree (a speculative proof) can run alongside.
   */
  onCallTree?: (root: CallFrame) => void;
  /** Also collect the balance and storage changes (a second run of the transaction; off by default). */
  stateDiff?: boolean;
  /**
   * State put in place of the fork's for every run and read (a `StateOverlay`'s accounts): the
   * transaction then runs as at the overlay's head, on a fork that may be a head behind.
   */
  state?: StateOverlay["state"];
  /**
   * The transaction's call tree as the node traced it (`StateOverlay.callTree`), at the state
   * and block context of this simulation: the fork then does not trace it again.
   */
  callTree?: unknown;
  /**
   * The block whose state to run on instead of the RPC's latest (`state` is then not applied):
   * where `fork` is the node itself, the head its overlay and call tree were read at.
   */
  block?: bigint;
  /**
   * References read already at this simulation's state, in the block context they were read in
   * (e.g. alongside the node's call tree): those it needs are taken from there if the context is
   * this simulation's, the others asked for.
   */
  references?: ReadReferences;
  /** Called with the references the simulation needed (what to read ahead for the next one). */
  onReferences?: (requests: readonly ReferenceRequest[]) => void;
};

/** What `callOf` needs of a transaction. */
export type CallShape = { from: string; to: string | null; input: string; value: bigint; gas: bigint };

/**
 * A transaction as the call object of `eth_call`, `debug_traceCall` and `eth_simulateV1`, its gas
 * at most `gasCap` if given.
 */
export function callOf(tx: CallShape, gasCap?: bigint): Record<string, string> {
  const gas = gasCap !== undefined && gasCap < tx.gas ? gasCap : tx.gas;
  return {
    from: tx.from,
    ...(tx.to ? { to: tx.to } : {}),
    data: tx.input,
    value: `0x${tx.value.toString(16)}`,
    gas: `0x${gas.toString(16)}`,
  };
}

/** The callTracer's configuration of a simulation's call tree (frames with their logs). */
export const CALL_TRACER = { tracer: "callTracer", tracerConfig: { withLog: true } } as const;

/** The block parameter of a state read: that block's number, or "latest" if none. */
export function blockTag(block?: bigint): string {
  return block === undefined ? "latest" : `0x${block.toString(16)}`;
}

/** A block's number and time as `blockOverrides` (debug_traceCall, eth_call, eth_simulateV1). */
export function blockOverrides(ctx: Pick<BlockContext, "number" | "timestamp">) {
  return { number: `0x${ctx.number.toString(16)}`, time: `0x${ctx.timestamp.toString(16)}` };
}

/**
 * Runs a pending transaction as its sender on a fork at the next block's context (number and
 * timestamp overridden) and returns its call tree with logs, state diff and the references the
 * features compare against: what each value read by a protected contract returned before the
 * transaction, protected contracts' token balances before, and pools' reserves before.
 */
export async function simulateTx(
  /** Where to run: a fork, or any node's RPC (with `block`). */
  fork: Pick<Fork, "rpc">,
  tx: PendingTx,
  ctx: BlockContext,
  options: SimulateOptions,
): Promise<Simulation> {
  const started = performance.now();
  const protectedSet = new Set(options.protectedAddresses.map((a) => a.toLowerCase()));
  const isProtected = (a: Address) => protectedSet.has(a.toLowerCase());
  const call = callOf(tx, options.gasCap);
  const block = blockOverrides(ctx);
  const at = blockTag(options.block);
  const state = options.block === undefined ? options.state : undefined;

  type RawDiff = { pre?: Record<string, RawAccount>; post?: Record<string, RawAccount> };
  const trace = <T>(tracer: object): Promise<T> =>
    fork.rpc
      .call<T>("debug_traceCall", [
        call,
        at,
        {
          ...tracer,
          blockOverrides: block,
          ...(state ? { stateOverrides: state } : {}),
        },
      ])
      .catch((error: unknown) => {
        throw new SimulationError(`could not simulate ${tx.hash}`, {
          details: [describeError(error)],
          hint: "check the fork pool is healthy and the upstream node answers debug_traceCall",
          cause: error,
        });
      });
  // A call tree the node traced already (at the same state and block) is used as it is; one that
  // does not read as a call tree is traced again here.
  let root: CallFrame | undefined;
  if (options.callTree !== undefined) {
    try {
      root = normaliseFrame(options.callTree as RawFrame);
    } catch {
      root = undefined;
    }
  }
  const tracedBy = root ? "node" : "fork";
  root ??= normaliseFrame(await trace<RawFrame>(CALL_TRACER));
  const traceMs = performance.now() - started;
  options.onCallTree?.(root);

  const reads = protectedReads(root, isProtected);
  const logs = logsInOrder(root).map((l) => l.log);
  // Pools' reserves only matter when a protected contract is involved: skip the reads otherwise.
  const touched = involvedProtected(root, isProtected).length > 0;
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
  /** The simulation, from the call tree and whatever enrichment was collected. */
  const result = (
    stateDiff: StateDiff,
    enriched: boolean,
    references: Simulation["references"],
    referencesReadAhead = 0,
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
    traceMs,
    tracedBy,
    referencesReadAhead,
  });
  if (!touched) {
    // Most traffic never reaches a protected contract: the call tree says so, and the second
    // trace (state diff) and the references would describe nothing the features use.
    return result({ pre: {}, post: {} }, false, { reads: [], balances: [], reserves: [] });
  }
  const diffPromise = options.stateDiff
    ? trace<RawDiff>({ tracer: "prestateTracer", tracerConfig: { diffMode: true } })
    : Promise.resolve<RawDiff>({});
  // Pre-transaction references, read on the untouched state in one batch (the node runs the
  // calls in parallel): one call per distinct read, however many answers it had during the tx.
  // Those read already alongside the call tree, in this block context, are taken from there.
  const viewCall = (to: Address, data: Hex, from?: Address): ReferenceRequest => ({
    kind: "call",
    ...(from ? { from } : {}),
    to,
    data,
  });
  const readRequests = reads.map(({ frame }) => viewCall(frame.to, frame.input, frame.from));
  const balanceList = [...balancePairs.values()];
  const balanceRequests = balanceList.map(({ token, holder }) =>
    viewCall(token, `${BALANCE_OF}${holder.slice(2).toLowerCase().padStart(64, "0")}`),
  );
  const poolList = [...pools];
  const poolRequests = poolList.map((pool) => viewCall(pool, GET_RESERVES));
  // Native balances of protected contracts that pay out ETH in the transaction.
  const ethHolders = new Set<Address>();
  for (const f of frames(root)) if (f.value > 0n && isProtected(f.from)) ethHolders.add(f.from);
  const ethList = [...ethHolders];
  const ethRequests = ethList.map((holder): ReferenceRequest => ({ kind: "balance", holder }));
  const requests = [...readRequests, ...balanceRequests, ...poolRequests, ...ethRequests];
  options.onReferences?.(requests);
  const known =
    options.references?.number === ctx.number && options.references.timestamp === ctx.timestamp
      ? options.references.answers
      : undefined;
  const answers = await answerReferences(
    fork.rpc,
    requests,
    { at, ...(state ? { state } : {}), block },
    known,
  );
  const referencesReadAhead = known ? requests.filter((r) => known.has(referenceKey(r))).length : 0;
  const output = (r: ReferenceRequest): Hex | undefined => answers.get(referenceKey(r)) ?? undefined;
  const ethRefs = ethList.flatMap((holder, i): BalanceReference[] => {
    // The fork's balance, unless the overlay puts another in its place.
    const a = state?.[getAddress(holder)]?.balance ?? output(ethRequests[i] as ReferenceRequest);
    return typeof a === "string" ? [{ token: "ETH", holder, before: BigInt(a) }] : [];
  });
  const readRefs = reads.map(
    ({ frame, context }, i): ReadReference => ({
      path: frame.path,
      protectedContext: context,
      to: frame.to,
      input: frame.input,
      during: frame.output,
      before: output(readRequests[i] as ReferenceRequest),
    }),
  );
  const balanceRefs = balanceList.map(({ token, holder }, i): BalanceReference => {
    const out = output(balanceRequests[i] as ReferenceRequest);
    return { token, holder, before: out && out.length >= 66 ? BigInt(out.slice(0, 66)) : 0n };
  });
  const reserveRefs = poolList.flatMap((pool, i): ReserveReference[] => {
    const out = output(poolRequests[i] as ReferenceRequest);
    if (!out || out.length < 130) return [];
    return [{ pool, reserve0: BigInt(`0x${out.slice(2, 66)}`), reserve1: BigInt(`0x${out.slice(66, 130)}`) }];
  });

  const rawDiff = await diffPromise;
  const stateDiff: StateDiff = { pre: normaliseAccounts(rawDiff.pre), post: normaliseAccounts(rawDiff.post) };
  return result(
    stateDiff,
    true,
    { reads: readRefs, balances: [...balanceRefs, ...ethRefs], reserves: reserveRefs },
    referencesReadAhead,
  );
}

/**
 * `simulateTx` on top of the sender's earlier transactions that are still pending (`before`, in
 * nonce order): they are mined in one block on the fork, `tx` is simulated in the block after,
 * and all of it is undone. An attacker who sends "deploy" and "call it" together would otherwise
 * be judged on a state without the contract, where the call does nothing. The caller holds `fork`
 * exclusively (it is mutated, then reverted). Those this fork has mined already are skipped (it
 * may be at a newer head). Undefined when a predecessor's signed bytes cannot be rebuilt, or it
 * does not get mined; rejects only if the fork fails.
 */
export async function simulateAfterPending(
  /** Where to run: a fork, or any node's RPC (with `block`). */
  fork: Pick<Fork, "rpc">,
  before: readonly PendingTx[],
  tx: PendingTx,
  ctx: BlockContext,
  options: SimulateOptions,
): Promise<Simulation | undefined> {
  // This fork may be at a newer head than the one that found them pending: skip what it mined.
  const mined = Number(BigInt(await fork.rpc.call<Hex>("eth_getTransactionCount", [tx.from, "latest"])));
  const pending = before.filter((p) => p.nonce >= mined);
  if (pending.length === 0) return mined === tx.nonce ? simulateTx(fork, tx, ctx, options) : undefined;
  if (pending[0]?.nonce !== mined) return undefined;
  const raws = pending.map((p) => rebuildRawTransaction(p));
  if (raws.some((r) => r === undefined)) return undefined;
  const snapshot = await fork.rpc.call<Hex>("evm_snapshot");
  try {
    for (const raw of raws) await fork.rpc.call("eth_sendRawTransaction", [raw]);
    await fork.rpc.call("evm_mine", [Number(ctx.timestamp)]);
    const nonce = await fork.rpc.call<Hex>("eth_getTransactionCount", [tx.from, "latest"]);
    if (Number(BigInt(nonce)) !== tx.nonce) return undefined; // a predecessor was not mined
    const block = await fork.rpc.call<{ hash: Hex }>("eth_getBlockByNumber", ["latest", false]);
    return await simulateTx(
      fork,
      tx,
      { ...ctx, number: ctx.number + 1n, timestamp: ctx.timestamp + 1n, parentHash: block.hash },
      options,
    );
  } finally {
    await fork.rpc.call("anvil_dropAllTransactions").catch(() => undefined);
    await fork.rpc.call("evm_revert", [snapshot]).catch(() => undefined);
  }
}

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
