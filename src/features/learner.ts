import { type Address, type Hex, pad } from "viem";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import type { Rpc } from "../internal/rpc.ts";
import { minedTouching, traceMined } from "../simulate/history.ts";
import { logsInOrder, TRANSFER_TOPIC } from "../simulate/simulate.ts";
import type { CallFrame } from "../simulate/types.ts";
import { type BaselineOptions, ProtocolBaseline } from "./baseline.ts";

/**
 * Keeps the per-protocol baseline current, off the hot path: at start it learns from the last
 * `warmBlocks` blocks, then from every new block. Transactions the daemon already simulated
 * while pending are learned from that call tree; the others (private order flow, transactions
 * seen before start) are traced on the upstream node. One learning pass runs at a time; heads
 * that arrive meanwhile are covered by the next pass.
 */
export type BaselineLearner = {
  readonly baseline: ProtocolBaseline;
  /**
   * A simulated pending transaction's call tree, kept until it is mined (bounded), if it is one
   * the learner would look up: a log of a protected contract's, or a token transfer out of one.
   */
  remember(hash: Hex, root: CallFrame): void;
  /** A new head: learn from the blocks since the last pass (returns at once). */
  onHead(number: bigint): void;
  /** Learn from recent blocks up to `head`; resolves when done. */
  warm(head: bigint): Promise<void>;
  /** Learn up to `head` now and wait for it (offline use: the dataset); throws if it could not. */
  sync(head: bigint): Promise<void>;
  stats(): {
    learned: number;
    traced: number;
    fromCache: number;
    /** Mined transactions left out to keep tracing off the node under load. */
    skipped: number;
    traceFailures: number;
    learnedTo: bigint;
    /** Call trees kept for transactions not mined yet. */
    remembered: number;
  };
  stop(): Promise<void>;
};

const REMEMBERED = 1_024;
/**
 * Transactions traced per new head, at most. Tracing a mined transaction replays its block up to
 * it (38 ms for the last of 200 transactions on Anvil here), and the node also serves the forks:
 * under load the baseline samples what it did not simulate itself rather than compete.
 */
const TRACES_PER_HEAD = 2;
/** At start, the most recent transactions traced (older history is sampled no further). */
const TRACES_AT_WARM_UP = 128;

export function createBaselineLearner(options: {
  upstream: Rpc;
  protectedAddresses: readonly Address[];
  warmBlocks: number;
  baseline: Partial<BaselineOptions>;
  logger: Logger;
  /** Most transactions traced per new head (default TRACES_PER_HEAD; the dataset learns them all). */
  tracesPerHead?: number;
  /**
   * Resolves when tracing on the node would not hold up urgent work; awaited before the traces
   * of each head after warm-up. A mined transaction's trace replays its block up to it on the
   * node (tens of ms), and a dangerous call's screening waiting behind it waits that long too.
   */
  quiet?: () => Promise<void>;
}): BaselineLearner {
  const { upstream, protectedAddresses, logger } = options;
  const baseline = new ProtocolBaseline(protectedAddresses, options.baseline);
  const remembered = new Map<Hex, CallFrame>();
  const stats = { learned: 0, traced: 0, fromCache: 0, skipped: 0, traceFailures: 0, learnedTo: -1n };
  let running: Promise<void> | undefined;
  let wantedTo = -1n;
  let stopped = false;
  let started = false;
  let failures = 0;
  let warming = false;
  const perHead = options.tracesPerHead ?? TRACES_PER_HEAD;
  const targets = new Set(protectedAddresses.map((a) => a.toLowerCase()));
  const targetTopics = new Set(protectedAddresses.map((a) => pad(a.toLowerCase() as Hex, { size: 32 })));
  /** Whether a tree holds a log `minedTouching` finds: a target's own, or a transfer out of one. */
  const touches = (root: CallFrame): boolean =>
    logsInOrder(root).some(
      ({ log }) =>
        targets.has(log.address.toLowerCase()) ||
        (log.topics[0]?.toLowerCase() === TRANSFER_TOPIC &&
          targetTopics.has((log.topics[1] ?? "0x").toLowerCase() as Hex)),
    );
  let warnedTracing = false;

  async function learn(from: bigint, to: bigint, maxTraces: number) {
    const txs = await minedTouching(upstream, protectedAddresses, from, to);
    const missing: { hash: Hex; block: bigint }[] = [];
    for (const t of txs) {
      const root = remembered.get(t.hash);
      if (root) {
        baseline.observe(t.hash, root, t.block);
        remembered.delete(t.hash);
        stats.fromCache++;
        stats.learned++;
      } else missing.push(t);
    }
    if (missing.length > maxTraces) {
      stats.skipped += missing.length - maxTraces;
      missing.splice(0, missing.length - maxTraces); // keep the most recent
    }
    if (missing.length > 0 && !warming && options.quiet) await options.quiet();
    if (missing.length > 0 && !stopped) {
      const { traces, failed, firstError } = await traceMined(upstream, missing);
      for (const t of traces) baseline.observe(t.hash, t.root, t.block);
      stats.traced += traces.length;
      stats.learned += traces.length;
      stats.traceFailures += failed;
      if (failed > 0 && !warnedTracing) {
        warnedTracing = true;
        logger.warn(
          { failed, error: firstError },
          "Could not trace some mined transactions for the baseline; it learns only from what the daemon simulated",
        );
      }
    }
    stats.learnedTo = to;
  }

  /** Runs passes until the learned range reaches the newest wanted head. */
  function pump(): Promise<void> {
    if (running) return running;
    if (stopped || stats.learnedTo >= wantedTo) return Promise.resolve();
    const pass = (async () => {
      try {
        while (!stopped && stats.learnedTo < wantedTo) {
          const to = wantedTo;
          const from = stats.learnedTo + 1n;
          // The warm-up pass covers many blocks; later passes one or a few heads each.
          await learn(from, to, warming ? TRACES_AT_WARM_UP : perHead * Number(to - from + 1n));
        }
      } catch (error) {
        // The next head retries from where learning stopped.
        failures++;
        const log = failures === 1 || failures % 100 === 0 ? logger.warn : logger.debug;
        log.call(
          logger,
          { err: describeError(error), failures },
          "Baseline learning failed; retrying at the next head",
        );
      }
    })();
    running = pass.finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    baseline,
    remember(hash, root) {
      // Only what `minedTouching` can find: the rest would sit here unused until pushed out
      // (REMEMBERED trees: seven seconds of simulations at 140 a second), each kept alive past
      // young-generation collections and promoted, for the full collections to clear.
      if (stopped || !touches(root)) return;
      remembered.set(hash, root);
      if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value as Hex);
    },
    onHead(number) {
      if (number > wantedTo) wantedTo = number;
      // Before warm-up starts, the range to learn from is not known yet: warm-up will cover it.
      if (started) void pump();
    },
    async warm(head) {
      const t0 = performance.now();
      const from = head - BigInt(options.warmBlocks) + 1n;
      stats.learnedTo = options.warmBlocks === 0 ? head : (from > 0n ? from : 0n) - 1n;
      if (head > wantedTo) wantedTo = head;
      started = true;
      warming = true;
      await pump();
      warming = false;
      logger.info(
        {
          blocks: options.warmBlocks,
          transactions: stats.learned,
          perTarget: baseline.counts(),
          ms: Math.round(performance.now() - t0),
        },
        "Baseline learned from recent blocks",
      );
    },
    async sync(head) {
      if (head > wantedTo) wantedTo = head;
      started = true;
      await running;
      await pump();
      if (stats.learnedTo < head) throw new Error(`baseline: could not learn up to block ${head}`);
    },
    stats: () => ({ ...stats, remembered: remembered.size }),
    async stop() {
      stopped = true;
      remembered.clear();
      await running;
    },
  };
}
