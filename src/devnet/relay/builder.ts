import { type Address, type Hex, parseTransaction, type TransactionSerialized } from "viem";
import WebSocket from "ws";
import { type AnvilInstance, startAnvil } from "../../internal/anvil.ts";
import { describeError, InputError, RpcError } from "../../internal/errors.ts";
import type { Logger } from "../../internal/logger.ts";
import { createRpc } from "../../internal/rpc.ts";
import { parsePendingTx } from "../../source/parse.ts";
import { rebuildRawTransaction } from "../../source/raw.ts";
import type { PendingTx } from "../../source/types.ts";
import {
  type Bundle,
  type BundleStore,
  type BundleTx,
  bundleHashOf,
  type CallBundleParams,
} from "./bundle.ts";

/**
 * The devnet's only block producer, standing in for a Flashbots-style builder. Each block holds
 * the eligible bundles first, ordered by what they pay the coinbase (measured by executing them on
 * a private fork of the chain), then the public mempool in arrival order. A bundle is left out if
 * one of its transactions fails, or reverts without being listed in `revertingTxHashes`, or
 * conflicts with a better-paying bundle already placed.
 *
 * How a block is made on Anvil (`--no-mining --order fifo`): take the public transactions out of
 * the pool (`anvil_dropTransaction`), send the chosen bundle transactions, send the public ones
 * back in their original order (in batches: see RESEND_BATCH), `evm_mine`. Trials run on the fork so that the chain never sees a
 * block that is later undone.
 *
 * Anvil forgets a transaction when an earlier nonce of its sender is dropped while it waits in the
 * pool. One that arrives between reading the pool and dropping from it is lost that way, and every
 * later transaction of its sender then waits behind the gap for ever (at 200 tx/s every sender of
 * the benchmark's load had stalled within a minute). The builder hears every transaction on the
 * node's pending feed, so after each block it asks the node for those that should have been mined
 * and sends back, from their rebuilt signed bytes, any the node no longer knows.
 */

type RpcBlock = { number: Hex; hash: Hex; timestamp: Hex; baseFeePerGas?: Hex; transactions: Hex[] };
type RpcReceipt = {
  transactionHash: Hex;
  status: Hex;
  gasUsed: Hex;
  effectiveGasPrice: Hex;
  from: Address;
  to: Address | null;
};
type TxPoolContent = {
  pending: Record<string, Record<string, { hash: Hex }>>;
  queued: Record<string, Record<string, { hash: Hex }>>;
};
type CallFrame = {
  from: Address;
  to?: Address;
  value?: Hex;
  type: string;
  error?: string;
  revertReason?: string;
  calls?: CallFrame[];
};

export type BuiltBlock = {
  number: bigint;
  hash: Hex;
  timestamp: number;
  /** Bundles placed, in block order. */
  included: Hex[];
  /** Eligible bundles left out, with the reason. */
  rejected: { bundleHash: Hex; reason: string }[];
  publicTxs: number;
  /** Public transactions the node had lost, sent back for the next block. */
  recoveredPublic: number;
  /** Public transactions that could not be put back (e.g. nonce taken by a bundle). */
  droppedPublic: { hash: Hex; reason: string }[];
  buildMs: number;
};

export type TrialTx = {
  hash: Hex;
  status: "success" | "reverted";
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  from: Address;
  to: Address | null;
};
type Trial =
  | { ok: true; coinbaseDiff: bigint; txs: TrialTx[]; baseFee: bigint }
  | { ok: false; reason: string };

export type BuilderOptions = {
  /** The devnet node the builder mines. */
  rpcUrl: string;
  wsUrl: string;
  store: BundleStore;
  logger: Logger;
  /** Fee recipient of built blocks (whose balance measures what a bundle pays). */
  coinbase: Address;
  /** Seconds since epoch; injectable for tests. */
  nowSeconds?: () => number;
};

export type Builder = {
  buildBlock(): Promise<BuiltBlock>;
  callBundle(params: CallBundleParams): Promise<CallBundleResult>;
  stop(): Promise<void>;
};

export type CallBundleTxResult = {
  txHash: Hex;
  gasUsed: number;
  gasPrice: string;
  gasFees: string;
  fromAddress: Address;
  toAddress: Address | null;
  coinbaseDiff: string;
  ethSentToCoinbase: string;
  value: Hex;
  error?: string;
  revert?: string;
};

export type CallBundleResult = {
  bundleGasPrice: string;
  bundleHash: Hex;
  coinbaseDiff: string;
  ethSentToCoinbase: string;
  gasFees: string;
  results: CallBundleTxResult[];
  stateBlockNumber: number;
  totalGasUsed: number;
};

/**
 * Public transactions sent back to the pool per JSON-RPC batch after the bundles. Anvil runs a
 * batch's sends concurrently, so their order within one batch is not kept (each sender's nonce
 * order always is); batches go one after the other.
 */
const RESEND_BATCH = 100;

/** At most this many unmined transactions are checked against the node after one block. */
const RECOVERY_CHECKS_PER_BLOCK = 2_000;

/** Serialises async work: trials and block building share one fork and one chain. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function createBuilder(options: BuilderOptions): Promise<Builder> {
  const { store, logger, coinbase } = options;
  const chain = createRpc(options.rpcUrl);
  const now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const exclusive = createMutex();
  /**
   * Transactions heard on the pending feed and not yet seen mined, in arrival order: `tx` holds
   * what rebuilds a lost one's bytes; `present` marks one the node was found to hold since the
   * last drop (it is not asked about again until the next drop).
   */
  const heard = new Map<Hex, { seq: number; tx: PendingTx | undefined; present: boolean }>();
  let arrivalSeq = 0;

  await chain.call("anvil_setCoinbase", [coinbase]);
  const fork: AnvilInstance = await startAnvil({ forkUrl: options.rpcUrl, noMining: true, order: "fifo" });
  const sim = createRpc(fork.rpcUrl);
  const socket = await watchArrivals(options.wsUrl, (hash, tx) => {
    if (!heard.has(hash)) heard.set(hash, { seq: arrivalSeq++, tx, present: false });
  });

  /** The block the fork was last reset to, as it was then (trials undo what they do). */
  let forkAt: bigint | undefined;
  async function resetFork(block: bigint): Promise<void> {
    forkAt = undefined;
    await sim.call("anvil_reset", [{ forking: { jsonRpcUrl: options.rpcUrl, blockNumber: Number(block) } }]);
    await sim.call("anvil_setCoinbase", [coinbase]);
    forkAt = block;
  }

  /** Executes bundles in order on the fork in one block at `timestamp`, then undoes it. */
  async function trial(
    bundles: readonly Pick<Bundle, "txs" | "revertingTxHashes">[],
    timestamp: number,
  ): Promise<Trial> {
    const snapshot = await sim.call<Hex>("evm_snapshot");
    try {
      const before = BigInt(await sim.call<Hex>("eth_getBalance", [coinbase, "latest"]));
      for (const b of bundles) {
        for (const tx of b.txs) {
          try {
            await sim.call("eth_sendRawTransaction", [tx.raw]);
          } catch (error) {
            return { ok: false, reason: `transaction ${tx.hash} refused: ${describeError(error)}` };
          }
        }
      }
      await sim.call("evm_setNextBlockTimestamp", [timestamp]);
      await sim.call("evm_mine");
      const block = await sim.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const receipts = await sim.call<RpcReceipt[]>("eth_getBlockReceipts", [block.number]);
      const byHash = new Map(receipts.map((r) => [r.transactionHash.toLowerCase(), r]));
      const txs: TrialTx[] = [];
      for (const b of bundles) {
        for (const tx of b.txs) {
          const r = byHash.get(tx.hash.toLowerCase());
          if (!r) return { ok: false, reason: `transaction ${tx.hash} could not be included (nonce or gas)` };
          const status = r.status === "0x1" ? "success" : "reverted";
          if (status === "reverted" && !b.revertingTxHashes.has(tx.hash.toLowerCase() as Hex)) {
            return { ok: false, reason: `transaction ${tx.hash} reverted and is not in revertingTxHashes` };
          }
          txs.push({
            hash: tx.hash,
            status,
            gasUsed: BigInt(r.gasUsed),
            effectiveGasPrice: BigInt(r.effectiveGasPrice),
            from: r.from,
            to: r.to,
          });
        }
      }
      const after = BigInt(await sim.call<Hex>("eth_getBalance", [coinbase, "latest"]));
      return { ok: true, coinbaseDiff: after - before, txs, baseFee: BigInt(block.baseFeePerGas ?? "0x0") };
    } finally {
      await sim.call("evm_revert", [snapshot]);
      await sim.call("anvil_dropAllTransactions");
    }
  }

  /**
   * Sends signed transactions to the node in order, RESEND_BATCH per request, one request after
   * the other: each one's hash, or the error that refused it.
   */
  async function sendAll(raws: readonly Hex[]): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let i = 0; i < raws.length; i += RESEND_BATCH) {
      const chunk = raws.slice(i, i + RESEND_BATCH);
      const sent = await chain
        .batch(chunk.map((raw) => ({ method: "eth_sendRawTransaction", params: [raw] })))
        .catch((error: unknown) =>
          chunk.map(() => (error instanceof Error ? error : new Error(String(error)))),
        );
      out.push(...chunk.map((_, j) => sent[j] ?? new Error("missing from the batch answer")));
    }
    return out;
  }

  /** Takes every transaction out of the public pool, in arrival order, keeping raw bytes. */
  async function takePool(): Promise<{ hash: Hex; raw: Hex }[]> {
    const taken: { hash: Hex; raw: Hex }[] = [];
    // A transaction Anvil would not drop shows up again in the next round: take each once. (Taking
    // it every round and re-sending it, "already imported", cost 9.9 s for one block at 200 tx/s.)
    const takenHashes = new Set<Hex>();
    // Dropping can lose a transaction the node held before: ask about every one again afterwards.
    for (const h of heard.values()) h.present = false;
    // What the pending feed announced is taken without reading the pool: its bytes rebuilt from
    // the feed, dropped in one batch. Reading a pool of 2,000 (txpool_content, then the raw
    // bytes) took 0.3-0.8 s of a bundle block at 1,000 tx/s. One the node had lost is sent back
    // with the rest.
    const announced: { hash: Hex; raw: Hex }[] = [];
    for (const [hash, h] of heard) {
      const raw = h.tx && rebuildRawTransaction(h.tx);
      if (raw) announced.push({ hash, raw });
    }
    if (announced.length > 0) {
      await chain.batch(announced.map((a) => ({ method: "anvil_dropTransaction", params: [a.hash] })));
      for (const a of announced) {
        takenHashes.add(a.hash);
        taken.push(a);
      }
    }
    // Then what is left that can be mined now (not announced yet, or not rebuildable): read.
    for (let round = 0; round < 5; round++) {
      const status = await chain.call<{ pending?: Hex }>("txpool_status").catch(() => undefined);
      if (status?.pending !== undefined && BigInt(status.pending) === 0n) break;
      const content = await chain.call<TxPoolContent>("txpool_content");
      const hashes: Hex[] = [];
      // Only what can be mined now: a queued transaction (nonce gap) stays where it is; Anvil keeps
      // it through a drop anyway, and re-sending it fails as "already imported".
      for (const byNonce of Object.values(content.pending))
        for (const tx of Object.values(byNonce)) if (!takenHashes.has(tx.hash)) hashes.push(tx.hash);
      if (hashes.length === 0) break;
      for (const h of hashes) takenHashes.add(h);
      // Two batched requests however large the pool: the raw bytes, then the drops.
      const raws = await chain.batch<Hex | null>(
        hashes.map((h) => ({ method: "eth_getRawTransactionByHash", params: [h] })),
      );
      await chain.batch(hashes.map((h) => ({ method: "anvil_dropTransaction", params: [h] })));
      hashes.forEach((hash, i) => {
        const raw = raws[i];
        if (typeof raw === "string") taken.push({ hash, raw });
      });
    }
    // Arrival order as seen on the node's pending feed; per sender, nonce order always holds.
    const meta = taken.map((t) => {
      const parsed = parseTransaction(t.raw as TransactionSerialized);
      return { ...t, seq: heard.get(t.hash)?.seq ?? Number.MAX_SAFE_INTEGER, nonce: parsed.nonce ?? 0 };
    });
    meta.sort((a, b) => a.seq - b.seq || a.nonce - b.nonce);
    return meta.map(({ hash, raw }) => ({ hash, raw }));
  }

  /**
   * Sends back the transactions heard before the block was mined (`heardBefore`) that it did not
   * include and that the node no longer knows: see the note at the top. Returns how many.
   */
  async function recoverLost(heardBefore: number): Promise<number> {
    const candidates: [Hex, { seq: number; tx: PendingTx | undefined; present: boolean }][] = [];
    for (const entry of heard) {
      if (entry[1].seq >= heardBefore || candidates.length >= RECOVERY_CHECKS_PER_BLOCK) break;
      if (!entry[1].present) candidates.push(entry);
    }
    if (candidates.length === 0) return 0;
    const found = await chain.batch<{ blockNumber: Hex | null } | null>(
      candidates.map(([hash]) => ({ method: "eth_getTransactionByHash", params: [hash] })),
    );
    let recovered = 0;
    const lost: { hash: Hex; h: { present: boolean }; raw: Hex }[] = [];
    for (const [i, [hash, h]] of candidates.entries()) {
      const f = found[i];
      if (f === undefined || f instanceof RpcError) continue; // asked again after the next block
      if (f !== null) {
        if (f.blockNumber)
          heard.delete(hash); // mined before we heard it
        else h.present = true;
        continue;
      }
      const raw = h.tx && rebuildRawTransaction(h.tx);
      if (!raw) {
        heard.delete(hash);
        logger.warn({ tx_hash: hash }, "Lost a public transaction whose bytes could not be rebuilt");
        continue;
      }
      lost.push({ hash, h, raw });
    }
    const sent = await sendAll(lost.map((l) => l.raw));
    lost.forEach(({ hash, h }, i) => {
      const answer = sent[i];
      if (answer instanceof Error) {
        // Replaced by its sender, or its nonce taken meanwhile: nothing to put back.
        heard.delete(hash);
        logger.info({ tx_hash: hash, reason: describeError(answer) }, "Did not put back a lost transaction");
      } else {
        h.present = true;
        recovered++;
      }
    });
    if (recovered > 0) logger.info({ count: recovered }, "Put back public transactions the node had lost");
    return recovered;
  }

  async function buildBlock(): Promise<BuiltBlock> {
    return exclusive(async () => {
      const started = performance.now();
      const head = await chain.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const target = BigInt(head.number) + 1n;
      const timestamp = Math.max(Number(BigInt(head.timestamp)) + 1, now());
      const eligible = store.eligible(target, timestamp);
      const included: Bundle[] = [];
      const rejected: { bundleHash: Hex; reason: string }[] = [];
      /** Where a slow block's time went (ms since `started`), for the log. */
      const phases: Record<string, number> = {};
      const phase = (name: string) => {
        phases[name] = Math.round(performance.now() - started);
      };

      if (eligible.length > 0) {
        // Reset after the last block already when bundles were waiting for this one (see below).
        if (forkAt !== BigInt(head.number)) await resetFork(BigInt(head.number));
        phase("fork_reset");
        const scored: { bundle: Bundle; pays: bigint }[] = [];
        for (const bundle of eligible) {
          const t = await trial([bundle], timestamp);
          if (t.ok) scored.push({ bundle, pays: t.coinbaseDiff });
          else rejected.push({ bundleHash: bundle.bundleHash, reason: t.reason });
        }
        scored.sort((a, b) => (a.pays === b.pays ? a.bundle.seq - b.bundle.seq : a.pays > b.pays ? -1 : 1));
        const placedTxs = new Set<Hex>();
        for (const { bundle } of scored) {
          if (bundle.txs.some((tx) => placedTxs.has(tx.hash))) {
            rejected.push({
              bundleHash: bundle.bundleHash,
              reason: "shares a transaction with a better-paying bundle",
            });
            continue;
          }
          // The first bundle already passed alone; later ones must pass on top of those placed.
          const t =
            included.length === 0 ? ({ ok: true } as const) : await trial([...included, bundle], timestamp);
          if (t.ok) {
            included.push(bundle);
            for (const tx of bundle.txs) placedTxs.add(tx.hash);
          } else {
            rejected.push({
              bundleHash: bundle.bundleHash,
              reason: `conflicts with a better-paying bundle: ${t.reason}`,
            });
          }
        }
      }

      const droppedPublic: { hash: Hex; reason: string }[] = [];
      let publicTxs = 0;
      if (included.length > 0) {
        const bundleTxs = included.flatMap((b) => b.txs);
        const bundleHashes = new Set(bundleTxs.map((t) => t.hash.toLowerCase()));
        phase("bundles_tried");
        const pool = await takePool();
        phase("pool_taken");
        await chain.call("evm_setNextBlockTimestamp", [timestamp]);
        for (const tx of bundleTxs) await chain.call("eth_sendRawTransaction", [tx.raw]);
        // Sent back in batches, one after the other: one request per transaction took 5-6 s for
        // a block at 1,000 tx/s, while more arrived, and the next block took longer still.
        const back = pool.filter((tx) => !bundleHashes.has(tx.hash.toLowerCase()));
        const sent = await sendAll(back.map((tx) => tx.raw));
        back.forEach((tx, i) => {
          const answer = sent[i];
          if (!(answer instanceof Error)) publicTxs++;
          // Announced, then mined before the feed's notice reached us: nothing to put back.
          else if (/nonce too low/i.test(answer.message)) heard.delete(tx.hash);
          // Still in the pool: Anvil did not drop it (one waiting behind a nonce gap, as seen).
          else if (/already (imported|known)/i.test(answer.message)) return;
          else droppedPublic.push({ hash: tx.hash, reason: describeError(answer) });
        });
      } else {
        await chain.call("evm_setNextBlockTimestamp", [timestamp]);
      }
      phase("pool_sent_back");
      const heardBeforeMining = arrivalSeq;
      await chain.call("evm_mine");
      const block = await chain.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      if (included.length === 0) publicTxs = block.transactions.length;
      for (const h of block.transactions) heard.delete(h);
      phase("mined");
      const recoveredPublic = await recoverLost(heardBeforeMining);
      store.prune(target);
      // Bundles already waiting for the next block: the fork is reset to this one now, between
      // blocks, not while the next is built (0.2-0.4 s of a bundle block at 1,000 tx/s).
      const nextAt = Math.max(Number(BigInt(block.timestamp)) + 1, now());
      if (store.eligible(BigInt(block.number) + 1n, nextAt).length > 0) {
        void exclusive(() => resetFork(BigInt(block.number))).catch((error: unknown) =>
          logger.warn(
            { err: describeError(error) },
            "Could not reset the bundle fork ahead of the next block",
          ),
        );
      }
      const built: BuiltBlock = {
        number: BigInt(block.number),
        hash: block.hash,
        timestamp: Number(BigInt(block.timestamp)),
        included: included.map((b) => b.bundleHash),
        rejected,
        publicTxs,
        recoveredPublic,
        droppedPublic,
        buildMs: Math.round(performance.now() - started),
      };
      logger.info(
        {
          block: Number(built.number),
          bundles_included: built.included.length,
          bundles_rejected: rejected.length,
          public_txs: publicTxs,
          recovered_public: recoveredPublic,
          dropped_public: droppedPublic.length,
          build_ms: built.buildMs,
          ...(included.length > 0 ? { phases_ms: phases } : {}),
        },
        "Built block",
      );
      for (const r of rejected)
        logger.info({ bundle_hash: r.bundleHash, reason: r.reason }, "Left bundle out of block");
      for (const d of droppedPublic)
        logger.warn({ tx_hash: d.hash, reason: d.reason }, "Dropped public transaction");
      return built;
    });
  }

  async function callBundle(params: CallBundleParams): Promise<CallBundleResult> {
    return exclusive(async () => {
      const head = await chain.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const headNumber = BigInt(head.number);
      const stateBlock = params.stateBlock === "latest" ? headNumber : params.stateBlock;
      if (stateBlock > headNumber)
        throw new InputError(`stateBlockNumber ${stateBlock} is ahead of the head ${headNumber}`);
      await resetFork(stateBlock);
      const parent = await sim.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const timestamp = params.timestamp ?? Math.max(Number(BigInt(parent.timestamp)) + 1, now());
      const everyRevertAllowed = new Set(params.txs.map((t) => t.hash.toLowerCase() as Hex));
      try {
        return await executeForReport(params.txs, everyRevertAllowed, timestamp);
      } finally {
        forkAt = undefined; // whatever the report left on the fork, the next block resets it
      }
    });
  }

  /** Like `trial`, but keeps going through reverts and reports per-transaction results. */
  async function executeForReport(
    txs: readonly BundleTx[],
    allow: ReadonlySet<Hex>,
    timestamp: number,
  ): Promise<CallBundleResult> {
    const snapshot = await sim.call<Hex>("evm_snapshot");
    try {
      for (const tx of txs) {
        try {
          await sim.call("eth_sendRawTransaction", [tx.raw]);
        } catch (error) {
          throw new InputError(`transaction ${tx.hash} is invalid at this state: ${describeError(error)}`);
        }
      }
      await sim.call("evm_setNextBlockTimestamp", [timestamp]);
      await sim.call("evm_mine");
      const block = await sim.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      const baseFee = BigInt(block.baseFeePerGas ?? "0x0");
      const receipts = await sim.call<RpcReceipt[]>("eth_getBlockReceipts", [block.number]);
      const byHash = new Map(receipts.map((r) => [r.transactionHash.toLowerCase(), r]));
      const results: CallBundleTxResult[] = [];
      let totalFees = 0n;
      let totalSent = 0n;
      let totalGas = 0;
      for (const tx of txs) {
        const r = byHash.get(tx.hash.toLowerCase());
        if (!r) throw new InputError(`transaction ${tx.hash} could not be included (nonce or gas)`);
        const gasUsed = BigInt(r.gasUsed);
        const price = BigInt(r.effectiveGasPrice);
        const gasFees = gasUsed * (price - baseFee);
        const trace = await sim.call<CallFrame>("debug_traceTransaction", [
          tx.hash,
          { tracer: "callTracer" },
        ]);
        const sent = valueTo(trace, coinbase);
        totalFees += gasFees;
        totalSent += sent;
        totalGas += Number(gasUsed);
        const parsed = parseTransaction(tx.raw as TransactionSerialized);
        const result: CallBundleTxResult = {
          txHash: tx.hash,
          gasUsed: Number(gasUsed),
          gasPrice: price.toString(),
          gasFees: gasFees.toString(),
          fromAddress: r.from,
          toAddress: r.to,
          coinbaseDiff: (gasFees + sent).toString(),
          ethSentToCoinbase: sent.toString(),
          value: `0x${(parsed.value ?? 0n).toString(16)}`,
        };
        if (r.status !== "0x1") {
          result.revert = trace.revertReason ?? trace.error ?? "execution reverted";
          if (!allow.has(tx.hash.toLowerCase() as Hex)) result.error = "execution reverted";
        }
        results.push(result);
      }
      const coinbaseDiff = totalFees + totalSent;
      return {
        bundleGasPrice: (totalGas > 0 ? coinbaseDiff / BigInt(totalGas) : 0n).toString(),
        bundleHash: bundleHashOf(txs.map((t) => t.hash)),
        coinbaseDiff: coinbaseDiff.toString(),
        ethSentToCoinbase: totalSent.toString(),
        gasFees: totalFees.toString(),
        results,
        stateBlockNumber: Number(BigInt(block.number) - 1n),
        totalGasUsed: totalGas,
      };
    } finally {
      await sim.call("evm_revert", [snapshot]);
      await sim.call("anvil_dropAllTransactions");
    }
  }

  return {
    buildBlock,
    callBundle,
    async stop() {
      socket.close();
      await fork.stop();
    },
  };
}

/** Sum of ETH moved to `to` by any successful frame of a call tree. */
function valueTo(frame: CallFrame, to: Address): bigint {
  let sum = 0n;
  const walk = (f: CallFrame) => {
    if (f.error) return;
    if (f.to?.toLowerCase() === to.toLowerCase() && f.value) sum += BigInt(f.value);
    for (const c of f.calls ?? []) walk(c);
  };
  for (const c of frame.calls ?? []) walk(c);
  return sum;
}

/**
 * Subscribes to the node's pending transactions (full objects) to learn arrival order and keep
 * what rebuilds each one's signed bytes. A node that sends only hashes gives the order alone.
 */
async function watchArrivals(
  wsUrl: string,
  onTx: (hash: Hex, tx: PendingTx | undefined) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", (e) => reject(new RpcError(`could not open ${wsUrl}`, { cause: e })));
  });
  socket.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { method?: string; params?: { result?: unknown } };
    if (msg.method !== "eth_subscription") return;
    const result = msg.params?.result;
    if (typeof result === "string") onTx(result as Hex, undefined);
    else {
      const tx = parsePendingTx(result, Date.now());
      if (tx.ok) onTx(tx.value.hash, tx.value);
    }
  });
  socket.on("error", () => undefined);
  socket.send(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_subscribe",
      params: ["newPendingTransactions", true],
    }),
  );
  return socket;
}
