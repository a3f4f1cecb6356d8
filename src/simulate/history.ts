import { type Address, getAddress, type Hex, pad } from "viem";
import { RpcError } from "../internal/errors.ts";
import type { Rpc } from "../internal/rpc.ts";
import { normaliseFrame, type RawFrame, TRANSFER_TOPIC } from "./simulate.ts";
import type { CallFrame } from "./types.ts";

/**
 * Call trees of transactions already mined that involved protected contracts, for the
 * per-protocol baseline (features/baseline.ts). Found through logs: events a protected contract
 * emitted, and token Transfers out of it; then each is traced with the same tracer the simulator
 * uses. A transaction that touched a protected contract without either (a failed call, a pure
 * view) taught the baseline nothing it uses, so missing it costs nothing.
 */

export type MinedTrace = { hash: Hex; block: bigint; root: CallFrame };

type RawLog = { transactionHash: Hex | null; blockNumber: Hex | null; removed?: boolean };

/** Blocks per eth_getLogs request: public nodes commonly refuse wider ranges. */
const LOG_RANGE = 1_000n;
/** Traces per request: each replays part of its block on the node, so a few at a time. */
const TRACE_BATCH = 4;

/** Hashes of transactions in [fromBlock, toBlock] that logged from, or moved tokens out of, a protected contract. */
export async function minedTouching(
  rpc: Rpc,
  protectedAddresses: readonly Address[],
  fromBlock: bigint,
  toBlock: bigint,
): Promise<{ hash: Hex; block: bigint }[]> {
  if (protectedAddresses.length === 0 || toBlock < fromBlock) return [];
  const found = new Map<Hex, bigint>();
  const fromTopics = protectedAddresses.map((a) => pad(getAddress(a).toLowerCase() as Hex, { size: 32 }));
  for (let lo = fromBlock; lo <= toBlock; lo += LOG_RANGE) {
    const hi = lo + LOG_RANGE - 1n < toBlock ? lo + LOG_RANGE - 1n : toBlock;
    const range = { fromBlock: `0x${lo.toString(16)}`, toBlock: `0x${hi.toString(16)}` };
    const [own, outflows] = await Promise.all([
      rpc.call<RawLog[]>("eth_getLogs", [{ ...range, address: protectedAddresses }]),
      rpc.call<RawLog[]>("eth_getLogs", [{ ...range, topics: [TRANSFER_TOPIC, fromTopics] }]),
    ]);
    for (const log of [...own, ...outflows]) {
      if (log.removed || !log.transactionHash || !log.blockNumber) continue;
      found.set(log.transactionHash, BigInt(log.blockNumber));
    }
  }
  return [...found.entries()]
    .map(([hash, block]) => ({ hash, block }))
    .sort((a, b) => (a.block < b.block ? -1 : a.block > b.block ? 1 : 0));
}

/**
 * Trace mined transactions (callTracer with logs), a batch of JSON-RPC calls at a time. A
 * transaction the node cannot trace is skipped and counted, not fatal: the baseline is an aid.
 */
export async function traceMined(
  rpc: Rpc,
  txs: readonly { hash: Hex; block: bigint }[],
): Promise<{ traces: MinedTrace[]; failed: number; firstError?: string }> {
  const traces: MinedTrace[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < txs.length; i += TRACE_BATCH) {
    const chunk = txs.slice(i, i + TRACE_BATCH);
    const answers = await rpc.batch<RawFrame>(
      chunk.map((t) => ({
        method: "debug_traceTransaction",
        params: [t.hash, { tracer: "callTracer", tracerConfig: { withLog: true } }],
      })),
    );
    for (const [j, a] of answers.entries()) {
      const t = chunk[j] as { hash: Hex; block: bigint };
      if (a instanceof RpcError || a === null || typeof a !== "object") {
        failed++;
        firstError ??= a instanceof RpcError ? a.message : "empty trace";
        continue;
      }
      traces.push({ hash: t.hash, block: t.block, root: normaliseFrame(a) });
    }
  }
  return { traces, failed, ...(firstError ? { firstError } : {}) };
}
