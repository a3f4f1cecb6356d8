import fs from "node:fs";
import { type Address, getAddress, type Hex, keccak256, type LocalAccount, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { extractFeatures } from "./features/extract.ts";
import { type BaselineLearner, createBaselineLearner } from "./features/learner.ts";
import type { Features } from "./features/types.ts";
import { createIncidentHandler, type Decided, type Resolved, type Timings } from "./incident.ts";
import { configVersion, metricsSettings, type ResolvedConfig } from "./internal/config.ts";
import { describeError } from "./internal/errors.ts";
import type { Logger } from "./internal/logger.ts";
import {
  createDaemonHealth,
  createDaemonMetrics,
  createRegistry,
  startMetricsServer,
} from "./internal/metrics.ts";
import { shippedFile } from "./internal/paths.ts";
import { createPriorityGate, type PriorityGateStats } from "./internal/priority-gate.ts";
import { createRpc, type Rpc } from "./internal/rpc.ts";
import { createAlerter } from "./record/alerts.ts";
import { createIncidentLog } from "./record/incidents.ts";
import { createPausePathWarmer } from "./respond/pause-path.ts";
import type { Proof } from "./respond/prove.ts";
import { createResponder, type ResponseEvent } from "./respond/responder.ts";
import { loadModel } from "./score/model.ts";
import { createScorer } from "./score/scorer.ts";
import type { Model, Verdict } from "./score/types.ts";
import { createForkPool, type Fork, type ForkPool } from "./simulate/forks.ts";
import { createReferenceMemory, type ReadReferences, readReferences } from "./simulate/references.ts";
import {
  blockOverrides,
  blockTag,
  frames,
  involvedProtected,
  nextBlockContext,
  protectedOutflow,
  simulateAfterPending,
  simulateTx,
} from "./simulate/simulate.ts";
import { NEAR_NODE_RTT_MS, type StateCacheStats, startStateCache } from "./simulate/state-cache.ts";
import type { BlockContext, CallFrame, Simulation, StateOverlay } from "./simulate/types.ts";
import { createPrefilter } from "./source/prefilter.ts";
import { rebuildRawTransaction } from "./source/raw.ts";
import { createRescreener } from "./source/rescreen.ts";
import { createMempoolSource } from "./source/source.ts";
import type { Head, PendingTx } from "./source/types.ts";

/**
 * The daemon: the only module that knows every stage. Data flows one way:
 * source -> prefilter -> simulator -> features -> scorer -> responder -> record.
 */

export const CODE_VERSION = "vigil-0.1.0";

/**
 * Simulations in flight per fork. A simulation is a few RPC round trips, each short; one at a
 * time per fork leaves both the fork and the daemon idle between them (measured: ~100 screened/s
 * with 2 forks at 1 in flight; see bench:latency).
 */
const SIMULATIONS_PER_FORK = 3;

/**
 * Workers that serve only transactions ranked at least FAST_LANE_MIN_RANK by the prefilter.
 * Several: contract deployments being screened (ranked like calls to fresh code), or a call
 * waiting for its state to be read or for a fork, must not hold the attack behind them in the
 * queue (with two, attacks waited 17 ms there at p50 at 200 tx/s).
 */
const FAST_LANE_WORKERS = 4;
/**
 * Workers that take only what ranks above the fast lane's floor (a heavy call to a new contract
 * that names a protected one, say). Under a flood of deployments (rank 3: 50 a second at 1,000
 * tx/s) every fast-lane worker was busy screening one, and an attack waited 0.85 s in the queue.
 */
const TOP_LANE_WORKERS = 1;
/** A call to a contract few have used (or a creation) with a large gas limit. */
const FAST_LANE_MIN_RANK = 3;
/** Most earlier pending transactions of a sender run before one of its calls (`pendingFirst`). */
const MAX_PENDING_BEFORE = 4;

/** Where a transaction is screened: a fork of the pool, or the node itself at a head. */
type Where = Pick<Fork, "rpc" | "head">;

/** What `readAhead` found for a dangerous call to a new or cold contract (see `handle`). */
type ReadAhead = {
  /** The block after the newest head, the one it was read in. */
  next?: BlockContext;
  /** To be screened on the node: the head its call tree was traced at, and that tree. */
  node?: { head: bigint; callTree: unknown };
  /** Else the state it touches, to overlay on a fork (with the node's call tree if it traced one). */
  overlay?: StateOverlay;
  /** The references recent simulations needed, read at the same head in the same block, alongside. */
  references?: ReadReferences;
};
/** The baseline learner's traces of mined transactions start at least this long after a head. */
const LEARN_AFTER_HEAD_MS = 300;

export type { Decided, Resolved, Timings } from "./incident.ts";

export type GuardianOptions = {
  config: ResolvedConfig;
  /** The sentinel's key, already loaded from the environment or keystore (never logged). */
  sentinelKey: Hex;
  relayAuthKey?: Hex;
  logger: Logger;
  /** Decide and record, send nothing (also set by `response.mode: "shadow"`). */
  shadow?: boolean;
  model?: Model;
  /**
   * For benchmarks only. `naive`: the baseline the optimised pipeline is measured against — one
   * fork reset to the head before every simulation, no prefilter (every transaction simulated, in
   * arrival order).
   */
  tuning?: {
    naive?: boolean;
    /** Awaited before each fork reset (tests hold resets open to see forks serve a head behind). */
    beforeForkReset?: () => Promise<void>;
    /**
     * The node round trip up to which it is near: a dangerous call is screened on it, and the state
     * cache reads ahead in waves (NEAR_NODE_RTT_MS; 0: never).
     */
    nodeNearMs?: number;
  };
};

export type RunningGuardian = {
  onDecision(fn: (d: Decided) => void): void;
  onResolved(fn: (r: Resolved) => void): void;
  /** Every step of a response (proof, bundles, resolution), for drills and tests. */
  onResponse(fn: (incidentId: Hex, e: ResponseEvent) => void): void;
  stats(): {
    screened: number;
    skipped: number;
    failed: number;
    incidents: number;
    /** Proofs started on a call tree before the decision, and how many a pause then used. */
    speculativeProofs: number;
    speculativeProofsUsed: number;
    /** Reverted dangerous transactions screened again at the next head (still pending). */
    rescreened: number;
    /**
     * Transactions screened on a fork serving one head behind (while the others reset) that
     * reverted there, or were ranked dangerous and needed no pause there: screened again at once
     * on a fork at the newest head.
     */
    rescreenedFresh: number;
    /** Dangerous calls simulated again after their sender's earlier pending transactions. */
    afterPending: number;
    /**
     * Dangerous calls to a new or cold contract simulated with the state they touch overlaid as
     * at the newest head, and how many of those ran on a fork a head behind.
     */
    overlaid: number;
    overlaidBehind: number;
    /** Simulations that took the call tree the node traced with the state read (no trace on the fork). */
    tracedByNode: number;
    /** Of those, the ones screened on the node itself (references and proof too; see `handle`). */
    screenedAtNode: number;
    /** Simulations that took references read alongside their state (see `readAhead`). */
    referencesReadAhead: number;
    /** Ordinary screenings held back while dangerous-ranked ones ran (see `createPriorityGate`). */
    urgency: PriorityGateStats;
    source: ReturnType<ReturnType<typeof createMempoolSource>["stats"]>;
    forks: ReturnType<ForkPool["health"]>;
    stateCache?: StateCacheStats;
    baseline?: ReturnType<BaselineLearner["stats"]> & { perTarget: Record<Address, number> };
  };
  stop(): Promise<void>;
};

/** The model shipped with Vigil (`npm run train` writes it). */
export const SHIPPED_MODEL = shippedFile("models/vigil-model.json");

/**
 * The model the config asks for: a path (must load, or the daemon refuses to start), "none"
 * (rules only), or absent (the shipped model if present, else rules only, said in the log).
 */
export function loadConfiguredModel(config: ResolvedConfig, logger: Logger): Model | undefined {
  const wanted = config.detection.model;
  if (wanted === "none") return undefined;
  if (wanted !== undefined) return loadModel(wanted);
  if (!fs.existsSync(SHIPPED_MODEL)) {
    logger.warn({ path: SHIPPED_MODEL }, "No trained model found; scoring with the rules alone");
    return undefined;
  }
  return loadModel(SHIPPED_MODEL);
}

export function incidentIdFor(chainId: number, txHash: Hex): Hex {
  // Deterministic, so two replicas seeing the same attack pause under the same incident id.
  return keccak256(toHex(`vigil:${chainId}:${txHash.toLowerCase()}`));
}

export async function startGuardian(options: GuardianOptions): Promise<RunningGuardian> {
  const { config, logger } = options;
  const shadow = options.shadow === true || config.response.mode === "shadow";
  const protectedAddresses = config.targets.map((t) => t.address);
  const protectedSet = new Set<Address>(protectedAddresses);
  const isProtected = (a: Address) => protectedSet.has(a);
  const sentinel: LocalAccount = privateKeyToAccount(options.sentinelKey);
  const upstream = createRpc(config.chain.rpcUrl);
  /**
   * A transaction's signed bytes: rebuilt from its fields, else asked of the node (null when the
   * node no longer has it).
   */
  const rawOf = async (tx: PendingTx): Promise<Hex | null> =>
    rebuildRawTransaction(tx) ??
    upstream.call<Hex | null>("eth_getRawTransactionByHash", [tx.hash]).catch(() => null);
  const model = options.model ?? loadConfiguredModel(config, logger);
  const scorer = createScorer({
    alertThreshold: config.detection.alertThreshold,
    pauseThreshold: config.detection.pauseThreshold,
    ...(model ? { model, modelWeight: config.detection.modelWeight } : {}),
  });
  const versions = { code: CODE_VERSION, config: configVersion(config), model: scorer.version };
  const decisionListeners: ((d: Decided) => void)[] = [];
  const resolvedListeners: ((r: Resolved) => void)[] = [];
  const responseListeners: ((incidentId: Hex, e: ResponseEvent) => void)[] = [];
  const counters = {
    screened: 0,
    skipped: 0,
    failed: 0,
    incidents: 0,
    speculativeProofs: 0,
    speculativeProofsUsed: 0,
    rescreenedFresh: 0,
    afterPending: 0,
    overlaid: 0,
    overlaidBehind: 0,
    tracedByNode: 0,
    screenedAtNode: 0,
    referencesReadAhead: 0,
  };
  const cleanups: { name: string; fn: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      const started = performance.now();
      await c
        .fn()
        .catch((error) => logger.warn({ component: c.name, err: describeError(error) }, "Failed to stop"));
      logger.debug({ component: c.name, ms: Math.round(performance.now() - started) }, "Stopped component");
    }
  };

  try {
    const record = await createIncidentLog(config.record.path);
    cleanups.push({ name: "record", fn: () => record.close() });
    const registry = createRegistry({ logger });
    const metrics = createDaemonMetrics(registry, { version: CODE_VERSION });
    const alerter = createAlerter({
      webhooks: config.alerts.webhooks,
      logger,
      onDelivery: (r) => metrics.alertDeliveries.inc({ format: r.format, result: r.result }),
    });
    cleanups.push({
      name: "alerts",
      fn: () => Promise.race([alerter.flush(), new Promise<void>((r) => setTimeout(r, 3000).unref())]),
    });

    const nodeNearMs = options.tuning?.nodeNearMs ?? NEAR_NODE_RTT_MS;
    // Forks read upstream state through a cache that survives heads (the naive baseline has none).
    const stateCache = options.tuning?.naive
      ? undefined
      : await startStateCache({ upstreamUrl: config.chain.rpcUrl, logger, nearRttMs: nodeNearMs });
    if (stateCache) {
      cleanups.push({ name: "state cache", fn: () => stateCache.stop() });
      await stateCache.advance(BigInt(await upstream.call<Hex>("eth_blockNumber")));
    }
    const forks = await createForkPool({
      upstreamUrl: stateCache?.url ?? config.chain.rpcUrl,
      size: options.tuning?.naive ? 1 : config.simulator.forks,
      // Ordinary workers' share plus the fast lane's. A dangerous-ranked transaction may go over
      // it anyway (`urgent`); the rest is room for the ordinary load while the other forks reset.
      perFork: options.tuning?.naive ? 1 : SIMULATIONS_PER_FORK + FAST_LANE_WORKERS + TOP_LANE_WORKERS,
      ...(options.tuning?.beforeForkReset ? { beforeReset: options.tuning.beforeForkReset } : {}),
      logger,
      timeoutMs: config.simulator.timeoutMs,
    });
    cleanups.push({ name: "forks", fn: () => forks.stop() });
    metrics.bindForkPool(forks);
    if (stateCache) metrics.bindStateCache(stateCache);

    /** Runs `fn` on a fork at the head, given back afterwards (`exclusive`: no one else on it). */
    const onFork = async <T>(fn: (rpc: Rpc) => Promise<T>, acquire: { exclusive?: boolean } = {}) => {
      const fork = await forks.acquire(acquire);
      try {
        return await fn(fork.rpc);
      } finally {
        forks.release(fork);
      }
    };
    const responder = createResponder({
      upstream,
      chainId: config.chain.chainId,
      guardian: config.guardian,
      sentinel,
      relays: config.relays.map((r, i) => ({ url: r.url, name: r.name ?? `relay-${i}` })),
      relayAuthKey: options.relayAuthKey,
      blocksAhead: config.response.blocksAhead,
      fees: {
        tipMarginGwei: config.response.tipMarginGwei,
        maxPriorityFeeGwei: config.response.maxPriorityFeeGwei,
      },
      publicFallback: config.response.publicFallback,
      withFork: (fn) => onFork(fn, { exclusive: true }),
      logger,
    });
    const incidents = createIncidentHandler({
      chainId: config.chain.chainId,
      recordPath: config.record.path,
      shadow,
      versions,
      record,
      alerter,
      responder,
      metrics,
      logger,
      rawOf,
      onResponse: (incidentId, e) => {
        for (const fn of responseListeners) fn(incidentId, e);
      },
      onResolved: (r) => {
        for (const fn of resolvedListeners) fn(r);
      },
      onFailure: () => {
        counters.failed++;
        metrics.failed.inc();
      },
    });
    // Runs after the responder's stop, which ends every pause still followed ("failed", the
    // daemon stopped): their last record lines are written before the record closes.
    cleanups.push({ name: "pauses followed", fn: () => incidents.settled() });
    cleanups.push({ name: "responder", fn: () => responder.stop() });
    await responder.ready();

    const naive = options.tuning?.naive === true;
    const prefilter = createPrefilter({ protectedAddresses });
    /** The prefilter's rank of each queued transaction (ranking counts, so it is done once). */
    const ranks = new WeakMap<PendingTx, number>();
    const source = createMempoolSource({
      wsUrl: config.chain.wsUrl,
      httpUrl: config.chain.rpcUrl,
      logger,
      queueCapacity: config.queue.capacity,
      // The naive baseline serves transactions in arrival order.
      priority: naive
        ? () => 1
        : (tx) => {
            const rank = prefilter.rank(tx);
            ranks.set(tx, rank);
            return rank;
          },
    });
    /**
     * While a transaction the prefilter ranks dangerous is screened, ordinary ones wait before
     * they start, so its simulation and proof get the cores (bounded: see the gate).
     */
    const urgency = createPriorityGate();
    const baselineConfig = config.detection.baseline;
    /** When the newest head was heard (performance.now()). */
    let headAt = performance.now();
    const learner = baselineConfig.enabled
      ? createBaselineLearner({
          upstream,
          protectedAddresses,
          warmBlocks: baselineConfig.warmBlocks,
          baseline: { minObservations: baselineConfig.minObservations, window: baselineConfig.window },
          logger,
          // Its traces on the node wait for the quiet part of the slot: not in the burst of work
          // after a head (forks resetting, state read ahead, attackers sending on the new block),
          // and not while a dangerous call is being screened. At 200 tx/s without them, the
          // slowest attack's call tree took 33 ms instead of 60 (one five-minute run each).
          quiet: async () => {
            const since = performance.now() - headAt;
            if (since < LEARN_AFTER_HEAD_MS)
              await new Promise((r) => setTimeout(r, LEARN_AFTER_HEAD_MS - since));
            await urgency.clear();
          },
        })
      : undefined;
    const warmPausePath =
      shadow || options.tuning?.naive
        ? async () => {}
        : createPausePathWarmer({
            guardian: config.guardian,
            sentinel: sentinel.address,
            targets: protectedAddresses,
            withFork: (fn) => onFork(fn),
            ...(stateCache ? { keepWarm: (a: Address[]) => stateCache.keepWarm(a) } : {}),
          });
    const rescreener = createRescreener({ upstream, requeue: (tx, rank) => source.requeue(tx, rank) });
    /** Transactions requeued to be screened on a fork at the newest head (see `screen`). */
    const screenedFresh = new WeakSet<PendingTx>();
    /** The references recent simulations needed: a dangerous call's are read with its state. */
    const referenceMemory = createReferenceMemory();
    /** The last few heads by number, for the context of a fork at any of them. */
    const recentHeads = new Map<bigint, Head>();
    source.onHead((head) => {
      headAt = performance.now();
      recentHeads.set(head.number, head);
      for (const n of recentHeads.keys()) if (n + 8n < head.number) recentHeads.delete(n);
      // Forks reset to the new head load the hot state the cache reads ahead at it.
      void stateCache?.advance(head.number);
      forks.advance(head.number);
      void warmPausePath();
      void rescreener.onHead(head);
      responder.onHead(head);
      learner?.onHead(head.number);
    });
    await source.start();
    if (learner) {
      cleanups.push({ name: "baseline", fn: () => learner.stop() });
      // Off the start path: until it is done, contracts without history are judged on mechanics.
      void currentHead()
        .then((h) => learner.warm(h.number))
        .catch((error) => logger.warn({ err: describeError(error) }, "Baseline warm-up failed"));
    }
    cleanups.push({ name: "source", fn: () => source.stop() });
    metrics.bindSource(source);
    const metricsAt = metricsSettings(config);
    if (metricsAt.port !== 0) {
      const server = await startMetricsServer({
        ...metricsAt,
        registry,
        logger,
        health: createDaemonHealth({
          sourceConnected: () => source.connected(),
          latestHead: () => source.latestHead(),
          maxHeadAgeSeconds: 60,
        }),
      });
      cleanups.push({ name: "metrics", fn: () => server.close() });
    }

    const sentinelAddress = getAddress(sentinel.address);
    /** Cheap checks before simulating: what cannot call into a protocol is not simulated. */
    const skip = (tx: PendingTx): boolean =>
      naive ? getAddress(tx.from) === sentinelAddress : !prefilter.shouldSimulate(tx, sentinelAddress);

    /**
     * What a dangerous call to a new or cold contract needs before its simulation, read at the
     * newest head in the block after it (see `handle`), and that block's context. Near the node:
     * its call tree as the node traces it (it is then screened on the node). Else, or if the
     * node could not: the state it touches as an overlay, with its call tree if the node traces
     * calls.
     */
    async function readAhead(tx: PendingTx, near: boolean): Promise<ReadAhead> {
      if (!stateCache) return {};
      const latest = source.latestHead();
      const next = latest ? nextBlockContext(latest) : undefined;
      const gasCap = BigInt(config.simulator.gasLimit);
      // The references it will most likely need are read on the node at the same time, at the
      // head the call is read at: the simulation then need not ask for them after the tree.
      const references: ReadReferences | undefined =
        latest && next
          ? {
              number: next.number,
              timestamp: next.timestamp,
              answers: readReferences(upstream, referenceMemory.requests(latest.number), {
                at: blockTag(latest.number),
                block: blockOverrides(next),
              }),
            }
          : undefined;
      const alongside = references ? { references } : {};
      if (near && next) {
        const node = await stateCache.callTreeFor(tx, next, { gasCap });
        if (node) return { next, node, ...alongside };
      }
      const overlay = await stateCache.readAheadFor(tx, next, { callTree: true, gasCap });
      return { ...(next ? { next } : {}), ...(overlay ? { overlay } : {}), ...alongside };
    }

    async function currentHead(): Promise<Head> {
      const h = source.latestHead();
      if (h) return h;
      const b = await upstream.call<{ number: Hex; hash: Hex; timestamp: Hex; baseFeePerGas?: Hex }>(
        "eth_getBlockByNumber",
        ["latest", false],
      );
      return {
        number: BigInt(b.number),
        hash: b.hash,
        timestamp: BigInt(b.timestamp),
        baseFeePerGas: b.baseFeePerGas ? BigInt(b.baseFeePerGas) : null,
        seenAt: performance.timeOrigin + performance.now(),
      };
    }

    const now = () => performance.timeOrigin + performance.now();

    async function handle(tx: PendingTx): Promise<void> {
      if (skip(tx)) {
        counters.skipped++;
        metrics.skipped.inc();
        return;
      }
      const rank = ranks.get(tx) ?? 0;
      const urgent = !naive && rank >= FAST_LANE_MIN_RANK;
      if (!urgent && !naive) await urgency.clear();
      const endHold = urgent ? urgency.hold() : () => {};
      const timings: Timings = { seenAt: tx.seenAt, dequeuedMs: now() - tx.seenAt };
      const latestHead = source.latestHead();
      if (latestHead) timings.sinceHeadMs = tx.seenAt - latestHead.seenAt;
      // A dangerous-looking transaction to a contract none of the last heads' simulations read
      // (an attack's fresh contract), or to one deployed lately (`codeIsNew`): nothing a fork
      // holds covers it, and a fork still a head behind may not even have its code. What it needs
      // is read at the newest head first (`readAhead`):
      // - Near the node (its quickest recent round trip at most NEAR_NODE_RTT_MS), its call tree as
      //   the node traces it, and it is screened on the node itself at that head: references and
      //   proof read the node's own state. A fork fresh from its reset would fetch each account
      //   they use one request after the other (6-12 ms idle for the benchmark's attack).
      // - Farther, the state it touches (the node's prestate trace, or its access list and a batch
      //   of reads), overlaid on a fork at most a head behind: a round trip to the node costs more
      //   than the fork's fetches, which the state cache then answers from memory.
      const cold = urgent && stateCache !== undefined && !stateCache.isHot(tx.to ?? tx.from);
      const newCode = urgent && tx.to !== null && stateCache?.codeIsNew(tx.to) === true;
      const nodeRtt = stateCache?.nodeRttMs();
      const near = nodeRtt !== undefined && nodeRtt <= nodeNearMs;
      // A far node's every value a fork misses costs a round trip, one after the other: there,
      // every dangerous call has its state read first (one round trip), hot contract or not.
      const far = urgent && stateCache !== undefined && !near;
      const reading = cold || newCode || far ? readAhead(tx, near) : undefined;
      // A fork still a head behind (while the others reset) serves the common load. A transaction
      // the prefilter ranks dangerous takes a fork at the newest head if one is not resetting
      // (over its share of simulations if need be); if none is, it does not wait for one: it is
      // screened at once on a fork a head behind, where only a pause stands (see `screen`).
      // Anything else there is screened again at the newest head. With an overlay, a fork a head
      // behind serves as well as one at the newest. Without one (the node could not say), a call
      // to a new or cold contract waits for the newest head (a reset, ~40 ms): on the previous
      // state it could find no code.
      const fresh = naive || screenedFresh.has(tx);
      const read = fresh ? undefined : await reading;
      if (reading && !fresh) timings.stateReadMs = now() - tx.seenAt;
      const node = read?.node;
      let overlay = read?.overlay;
      // Screened on the node, it needs no fork: it runs on the node's RPC at that head.
      const pooled = node
        ? undefined
        : !fresh && urgent
          ? overlay
            ? (forks.tryAcquire({ behindOk: true, urgent }) ??
              (await forks.acquire({ behindOk: true, urgent })))
            : (forks.tryAcquire({ urgent }) ??
              (reading ? undefined : forks.tryAcquire({ behindOk: true, urgent })) ??
              (await forks.acquire({ urgent })))
          : await forks.acquire({ behindOk: !fresh, urgent });
      const fork: Where = node ? { rpc: upstream, head: node.head } : (pooled as Fork);
      // An overlay older than the fork's head (a head came meanwhile) would take state back.
      if (overlay && (fork.head > overlay.head || fork.head + 1n < overlay.head)) overlay = undefined;
      if (overlay) {
        counters.overlaid++;
        if (fork.head < overlay.head) counters.overlaidBehind++;
      }
      timings.forkMs = now() - tx.seenAt;
      // The context is the block after the head the state is at (a newer head may have come
      // meanwhile): the block the call tree was read in, if it is that head's next.
      const stateHead = node?.head ?? overlay?.head ?? fork.head;
      const head = recentHeads.get(stateHead) ?? (await currentHead());
      const readIn = read?.next;
      const context =
        (node || overlay) && readIn?.number === head.number + 1n ? readIn : nextBlockContext(head);
      // The fork is kept until the pause is proved on it (same state, warm), else released now.
      let released = false;
      const release = () => {
        if (!released && pooled) forks.release(pooled);
        released = true;
      };
      try {
        await screen(tx, timings, head, context, fork, overlay, node, read?.references, release, endHold);
      } finally {
        release();
        endHold();
      }
    }

    /**
     * The sender's earlier pending transactions a dangerous call must run after, if its first
     * simulation reverted or reached no code and the sender has such transactions (at most
     * MAX_PENDING_BEFORE); else undefined.
     */
    async function pendingFirst(
      tx: PendingTx,
      sim: Simulation,
      fork: Where,
      overlay: StateOverlay | undefined,
      /** The block to read at on `fork` (the node's head, when screened on the node); else its latest. */
      block: bigint | undefined,
    ): Promise<PendingTx[] | undefined> {
      // A call that ran and called on, or emitted anything, reached code: nothing to ask.
      if (tx.to === null || (sim.success && (sim.root.calls.length > 0 || sim.root.logs.length > 0)))
        return undefined;
      // The overlay has both accounts (the call's sender and recipient are always in it); an
      // account in it without code has the code it had a head before, which is not none.
      const at = blockTag(block);
      const [code, nonceHex] = overlay
        ? [overlay.state[getAddress(tx.to)]?.code, overlay.state[getAddress(tx.from)]?.nonce]
        : await fork.rpc
            .batch<Hex>([
              { method: "eth_getCode", params: [tx.to, at] },
              { method: "eth_getTransactionCount", params: [tx.from, at] },
            ])
            .catch(() => []);
      if (sim.success && code !== "0x") return undefined; // it ran against code: judged as it is
      if (typeof nonceHex !== "string") return undefined;
      const nonce = Number(BigInt(nonceHex));
      if (nonce >= tx.nonce || tx.nonce - nonce > MAX_PENDING_BEFORE) return undefined;
      return source.pendingBefore(tx, nonce);
    }

    async function screen(
      tx: PendingTx,
      timings: Timings,
      head: Head,
      context: BlockContext,
      fork: Where,
      /** State to run with in place of the fork's (as at a newer head than the fork's), if any. */
      overlay: StateOverlay | undefined,
      /**
       * The node's head and its call tree there, when the call is screened on the node (`fork`
       * is then the node itself; see `handle`).
       */
      node: ReadAhead["node"],
      /** References read alongside (used if they were read in `context`). */
      references: ReadReferences | undefined,
      release: () => void,
      /** Ends the urgency hold: the transaction needs no more than its share of the machine. */
      settled: () => void,
    ): Promise<void> {
      if (naive) {
        await fork.rpc.call("anvil_reset", [
          { forking: { jsonRpcUrl: config.chain.rpcUrl, blockNumber: Number(head.number) } },
        ]);
      }
      // A transaction the prefilter ranks as dangerous whose call tree moves tokens out of a
      // protected contract may well end in a pause: its proof starts now, alongside the
      // enrichment and scoring, instead of after the decision.
      let speculation: Speculation | undefined;
      const speculate = (root: CallFrame) => {
        if (naive || shadow || (ranks.get(tx) ?? 0) < FAST_LANE_MIN_RANK) return;
        if (!protectedOutflow(root, isProtected)) return;
        const targets = affectedTargets(root, protectedAddresses);
        const request = {
          incidentId: incidentIdFor(config.chain.chainId, tx.hash),
          attack: tx,
          targets,
          context,
          ...(overlay ? { state: overlay.state } : {}),
          ...(node ? { atNode: node.head } : {}),
        };
        const proof = responder.prove(request, fork.rpc);
        proof.catch(() => {}); // awaited (or dropped) below; never an unhandled rejection
        speculation = { targets, proof };
        counters.speculativeProofs++;
      };
      timings.simulatingMs = now() - tx.seenAt;
      let sim = await simulateTx(fork, tx, context, {
        protectedAddresses,
        gasCap: BigInt(config.simulator.gasLimit),
        onCallTree: speculate,
        ...(overlay ? { state: overlay.state } : {}),
        ...(node ? { callTree: node.callTree, block: node.head } : {}),
        ...(overlay?.callTree !== undefined ? { callTree: overlay.callTree } : {}),
        ...(references ? { references } : {}),
        onReferences: (requests) => referenceMemory.note(requests, context.number - 1n),
      });
      if (sim.tracedBy === "node") counters.tracedByNode++;
      if (sim.referencesReadAhead > 0) counters.referencesReadAhead++;
      if (node) counters.screenedAtNode++;
      const rank = ranks.get(tx) ?? 0;
      /** The head whose state `sim` ran on, and whether its fork is still held for the proof. */
      let simHead = overlay?.head ?? fork.head;
      let holdsFork = true;
      /** The sender's pending transactions `sim` ran after, if it did: the proof runs them too. */
      let ranAfter: PendingTx[] | undefined;
      // A dangerous-looking call that reverted or reached no code may need its sender's earlier
      // pending transactions (a contract deployed and called in one go): run them first.
      // (On a fork a head behind, the newest block may be all it needs: screened again below.)
      const before =
        naive || rank < FAST_LANE_MIN_RANK || simHead < forks.newest()
          ? undefined
          : await pendingFirst(tx, sim, fork, overlay, node?.head);
      if (before) {
        if (speculation) await speculation.proof.catch(() => {});
        release(); // an exclusive fork may be this one
        holdsFork = false;
        const ex = await forks.acquire({ exclusive: true });
        try {
          // A fork that fails here leaves the first simulation standing.
          const chained = await simulateAfterPending(
            ex,
            before,
            tx,
            nextBlockContext(recentHeads.get(ex.head) ?? head),
            { protectedAddresses, gasCap: BigInt(config.simulator.gasLimit) },
          ).catch((error: unknown) => {
            logger.warn(
              { tx: tx.hash, err: describeError(error) },
              "Could not simulate after the sender's pending transactions",
            );
            return undefined;
          });
          if (chained) {
            sim = chained;
            simHead = ex.head;
            overlay = undefined; // the chained simulation ran on the fork's own state
            ranAfter = before;
            counters.afterPending++;
          }
        } finally {
          forks.release(ex);
        }
      }
      timings.simulatedMs = now() - tx.seenAt;
      stateCache?.keepWarm(accountsUsed(sim.root));
      const features = extractFeatures(sim, tx.from, learner?.baseline);
      const verdict = scorer.score(features);
      timings.scoredMs = now() - tx.seenAt;
      // Screened on a fork still a head behind (the others were resetting), a transaction may
      // only work on the newest block: an attack sent as soon as the block deploying its contract
      // lands reverts there, or calls nothing at all. One that reverted, or a dangerous-ranked one
      // not found to need a pause, is screened again at once on a fork at the newest head and
      // decided there, once. A pause found a head behind stands: waiting costs the race.
      if (
        !naive &&
        simHead < forks.newest() &&
        !screenedFresh.has(tx) &&
        (!sim.success || (rank >= FAST_LANE_MIN_RANK && verdict.decision !== "pause"))
      ) {
        screenedFresh.add(tx);
        counters.rescreenedFresh++;
        source.requeue(tx, rank);
        if (speculation) await speculation.proof.catch(() => {}); // the fork is released next
        return;
      }
      if (sim.enriched && sim.success) learner?.remember(tx.hash, sim.root);
      counters.screened++;
      // A dangerous-looking transaction that reverts may only need the block that was mined as it
      // arrived (our head lags the node's by a notification): it is screened again at the next head.
      if (!sim.success && !naive && rank >= FAST_LANE_MIN_RANK) rescreener.reverted(tx, rank, context.number);
      metrics.recordScreening({
        simulationSuccess: sim.success,
        simulationMs: sim.durationMs,
        decision: verdict.decision,
        simulatedMs: timings.simulatedMs,
        scoredMs: timings.scoredMs,
      });
      const targets = affectedTargets(sim.root, protectedAddresses);
      // A speculative proof ran without the predecessors: it cannot stand for a chained simulation.
      const speculated =
        speculation && !ranAfter && sameSet(speculation.targets, targets) ? speculation : undefined;
      const incidentId =
        verdict.decision === "ignore" ? undefined : incidentIdFor(config.chain.chainId, tx.hash);
      const decided: Decided = {
        tx,
        verdict,
        features,
        simulation: {
          success: sim.success,
          error: sim.error,
          gasUsed: sim.gasUsed,
          durationMs: sim.durationMs,
          traceMs: sim.traceMs,
          tracedBy: sim.tracedBy,
          referencesReadAhead: sim.referencesReadAhead,
          block: context.number,
          ...(overlay && fork.head < overlay.head
            ? { overlaid: { forkHead: fork.head, accounts: Object.keys(overlay.state).length } }
            : {}),
          ...(node && !ranAfter ? { atNode: true as const } : {}),
        },
        targets,
        incidentId,
        timings,
      };
      for (const fn of decisionListeners) fn(decided);
      if (verdict.decision !== "pause" || shadow) {
        settled();
        // The fork may not be reset under a speculative proof still running on it.
        if (speculation) await speculation.proof.catch(() => {});
        release();
      }
      if (!incidentId) return;
      counters.incidents++;
      if (speculated && verdict.decision === "pause" && !shadow) counters.speculativeProofsUsed++;
      await incidents.handle({
        decided: { ...decided, incidentId },
        context,
        ...(ranAfter ? { ranAfter } : {}),
        ...(overlay ? { overlay } : {}),
        ...(node && !ranAfter ? { atNode: node.head } : {}),
        ...(speculated ? { speculated: speculated.proof } : {}),
        ...(holdsFork ? { forkRpc: fork.rpc } : {}),
        release,
        settled,
      });
    }

    const abort = new AbortController();
    const lanes: (number | undefined)[] = naive
      ? [undefined]
      : [
          ...Array.from({ length: config.simulator.forks * SIMULATIONS_PER_FORK }, () => undefined),
          // The fast lane takes only what the prefilter ranks as dangerous, so an attack never
          // waits behind a flood of ordinary transactions for a free worker.
          ...Array.from({ length: FAST_LANE_WORKERS }, () => FAST_LANE_MIN_RANK),
          ...Array.from({ length: TOP_LANE_WORKERS }, () => FAST_LANE_MIN_RANK + 1),
        ];
    const workers = lanes.map(async (minPriority) => {
      for (;;) {
        const tx = await source.next(abort.signal, minPriority === undefined ? {} : { minPriority });
        if (!tx) return;
        try {
          await handle(tx);
        } catch (error) {
          counters.failed++;
          metrics.failed.inc();
          logger.error({ tx: tx.hash, err: describeError(error) }, "Failed to screen transaction");
        }
      }
    });
    // Stop order: no new work, then let in-flight screenings finish; pauses still followed are
    // ended by the responder's stop.
    cleanups.push({
      name: "workers",
      fn: async () => {
        abort.abort();
        await Promise.race([Promise.allSettled(workers), new Promise((r) => setTimeout(r, 5000).unref())]);
      },
    });
    logger.info(
      {
        targets: protectedAddresses.length,
        forks: config.simulator.forks,
        shadow,
        sentinel: sentinelAddress,
        relays: config.relays.length,
      },
      "Started guardian",
    );

    return {
      onDecision: (fn) => decisionListeners.push(fn),
      onResolved: (fn) => resolvedListeners.push(fn),
      onResponse: (fn) => responseListeners.push(fn),
      stats: () => ({
        ...counters,
        rescreened: rescreener.count(),
        urgency: urgency.stats(),
        source: source.stats(),
        forks: forks.health(),
        ...(stateCache ? { stateCache: stateCache.stats() } : {}),
        ...(learner ? { baseline: { ...learner.stats(), perTarget: learner.baseline.counts() } } : {}),
      }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Every account a call tree ran code of or called from. */
function accountsUsed(root: CallFrame): Set<Address> {
  const used = new Set<Address>();
  for (const f of frames(root)) {
    used.add(f.from);
    used.add(f.to);
  }
  return used;
}

/** Work started on a call tree before its decision: see `speculate` in `screen`. */
type Speculation = { targets: Address[]; proof: Promise<Proof> };

function sameSet(a: readonly Address[], b: readonly Address[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function affectedTargets(root: CallFrame, protectedAddresses: readonly Address[]): Address[] {
  const prot = new Set(protectedAddresses);
  const hit = involvedProtected(root, (a) => prot.has(a));
  return hit.length > 0 ? hit : [...protectedAddresses];
}

export type Explained = {
  tx: PendingTx;
  verdict: Verdict;
  features: Features;
  simulation: Simulation;
  targets: Address[];
  /** Block whose state the transaction ran on. */
  stateBlock: bigint;
};

/**
 * Screens one transaction with the daemon's own simulator, features and scorer, for
 * `vigil simulate` (post-mortems, tuning). A mined transaction runs on the state before its
 * block, in its block's context; a pending one at the next block.
 */
export async function explainTransaction(options: {
  config: ResolvedConfig;
  tx: PendingTx;
  /** Block the tx was mined in, if it was. */
  minedIn?: { number: bigint; timestamp: bigint; baseFeePerGas: bigint | null; hash: Hex };
  logger: Logger;
  model?: Model;
}): Promise<Explained> {
  const { config, tx } = options;
  const upstream = createRpc(config.chain.rpcUrl);
  const protectedAddresses = config.targets.map((t) => t.address);
  let stateBlock: bigint;
  let context: ReturnType<typeof nextBlockContext>;
  if (options.minedIn) {
    stateBlock = options.minedIn.number - 1n;
    context = {
      number: options.minedIn.number,
      timestamp: options.minedIn.timestamp,
      baseFeePerGas: options.minedIn.baseFeePerGas,
      parentHash: options.minedIn.hash,
    };
  } else {
    const b = await upstream.call<{ number: Hex; hash: Hex; timestamp: Hex; baseFeePerGas?: Hex }>(
      "eth_getBlockByNumber",
      ["latest", false],
    );
    stateBlock = BigInt(b.number);
    context = nextBlockContext({
      number: stateBlock,
      hash: b.hash,
      timestamp: BigInt(b.timestamp),
      baseFeePerGas: b.baseFeePerGas ? BigInt(b.baseFeePerGas) : null,
    });
  }
  const forks = await createForkPool({
    upstreamUrl: config.chain.rpcUrl,
    size: 1,
    logger: options.logger,
    timeoutMs: config.simulator.timeoutMs,
    atBlock: stateBlock,
  });
  try {
    const fork = await forks.acquire();
    // A post-mortem shows the protected contracts' balance and storage changes too.
    const simulation = await simulateTx(fork, tx, context, {
      protectedAddresses,
      gasCap: BigInt(config.simulator.gasLimit),
      stateDiff: true,
    });
    forks.release(fork);
    const features = extractFeatures(simulation, tx.from);
    const model = options.model ?? loadConfiguredModel(config, options.logger);
    const scorer = createScorer({
      alertThreshold: config.detection.alertThreshold,
      pauseThreshold: config.detection.pauseThreshold,
      ...(model ? { model, modelWeight: config.detection.modelWeight } : {}),
    });
    return {
      tx,
      verdict: scorer.score(features),
      features,
      simulation,
      targets: affectedTargets(simulation.root, protectedAddresses),
      stateBlock,
    };
  } finally {
    await forks.stop();
  }
}
