import { describeError, InputError, RpcError, VigilError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import { redactUrl } from "../internal/redact.ts";
import { createRpc } from "../internal/rpc.ts";
import { backoffDelay } from "./backoff.ts";
import { createSeenHashes } from "./dedup.ts";
import { parseHead, parsePendingTx } from "./parse.ts";
import { readPoolHashes } from "./pool.ts";
import { createPriorityQueue } from "./queue.ts";
import { openRpcSocket, type RpcSocket } from "./socket.ts";
import { createThrottledReport } from "./throttle.ts";
import type { Head, PendingTx } from "./types.ts";

/**
 * The pipeline's first stage: pending transactions and new heads from one node.
 *
 * - Full transactions arrive over `eth_subscribe ["newPendingTransactions", true]`, heads over
 *   `eth_subscribe ["newHeads"]`, on one WebSocket (the `ws` package).
 * - Every transaction is deduplicated by hash, so a re-announced one is handed out once.
 * - A bounded priority queue sits between the socket and the (slower) simulator. When it is full
 *   the least dangerous transaction goes, and each eviction is counted and logged.
 * - A lost or silent socket is replaced with exponential backoff; after each (re)connect the
 *   node's `txpool_content` and latest block are fetched over HTTP, so what arrived while we were
 *   away is not missed.
 */

export type MempoolSourceOptions = {
  /** WebSocket JSON-RPC endpoint of the upstream node. */
  wsUrl: string;
  /** HTTP JSON-RPC endpoint of the same node (catch-up from `txpool_content`). */
  httpUrl: string;
  logger: Logger;
  /** Queued transactions at most (default 10 000). */
  queueCapacity?: number;
  /** Higher = more dangerous = served first, evicted last (default: `defaultPriority`). */
  priority?: (tx: PendingTx) => number;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Dead-socket detection: ping every `intervalMs`, give up after `timeoutMs` without pong. */
  keepAlive?: { intervalMs?: number; timeoutMs?: number };
  /**
   * Reconcile with `txpool_content` at a head only while the pool holds at most this many
   * transactions (default 2 000); see `poolSmallEnough`.
   */
  reconcileMaxPool?: number;
  /** Hashes remembered for deduplication (default 100 000). */
  dedupCapacity?: number;
  /** Clock for `seenAt` (default: `performance.timeOrigin + performance.now()`). */
  now?: () => number;
};

/**
 * Counters since start. `seen` = `duplicates` + `enqueued`; every enqueued transaction is either
 * handed out by `next()`, still `queued`, `evicted`, or dropped at stop (logged).
 */
export type SourceStats = {
  /** Valid transactions received (subscription and catch-up), duplicates included. */
  seen: number;
  duplicates: number;
  enqueued: number;
  evicted: number;
  /** Messages from the node that could not be parsed (ignored, logged). */
  malformed: number;
  reconnects: number;
  /** In the queue now. */
  queued: number;
  /** New transactions found by `txpool_content` catch-ups. */
  caughtUp: number;
  /** Transactions put back for another screening (`requeue`), not counted in `enqueued`. */
  requeued: number;
  /** Per-head reconciliations skipped because the node's pool was larger than the limit. */
  reconcilesSkipped: number;
};

export type MempoolSource = {
  /**
   * Connects, subscribes and catches up once. Rejects with an `RpcError` if the first connection
   * fails: at start-up a wrong URL should be reported, not retried forever in silence.
   */
  start(): Promise<void>;
  /** Closes the socket for good, wakes `next()` callers with undefined; safe to call twice. */
  stop(): Promise<void>;
  /**
   * The most dangerous queued transaction, waiting for one if the queue is empty. With
   * `minPriority`, only a transaction ranked at least that high (a fast lane that is never busy
   * with ordinary traffic). Resolves undefined once the source is stopped or `signal` aborts.
   */
  next(signal?: AbortSignal, options?: { minPriority?: number }): Promise<PendingTx | undefined>;
  /**
   * Puts a transaction already handed out back in the queue at `priority`, for another screening
   * (deduplication would otherwise drop it); an eviction is counted as for any other.
   */
  requeue(tx: PendingTx, priority: number): void;
  /**
   * The sender's transactions seen with nonces `fromNonce` .. `tx.nonce - 1`, in nonce order:
   * what must run before `tx` can. Undefined if any of them was not seen (or is forgotten).
   */
  pendingBefore(tx: PendingTx, fromNonce: number): PendingTx[] | undefined;
  /** Calls `listener` on each new head; returns the unsubscribe function. */
  onHead(listener: (head: Head) => void): () => void;
  latestHead(): Head | undefined;
  stats(): SourceStats;
  /** Whether a subscribed socket is open now (health endpoint). */
  connected(): boolean;
};

/**
 * 1 for anything that runs code (calldata, or a contract creation), 0 for a plain value transfer.
 * A transfer to a contract still runs its fallback, but without calldata it cannot call into a
 * protocol's functions, so it is the safest thing to drop under a flood.
 */
export function defaultPriority(tx: PendingTx): number {
  return tx.to === null || tx.input !== "0x" ? 1 : 0;
}

const DEFAULTS = {
  queueCapacity: 10_000,
  dedupCapacity: 100_000,
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  keepAliveIntervalMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  httpTimeoutMs: 10_000,
  /** At most one warning line per interval for evictions and malformed messages. */
  reportIntervalMs: 1_000,
  reportSamples: 5,
  /**
   * A connection must stay up this long before the backoff starts again from its first delay:
   * a node that accepts and then drops every connection is not hammered at the shortest delay.
   */
  stableMs: 10_000,
  /** Recent head hashes remembered, so a head is emitted once even if reported twice. */
  headMemory: 64,
  /**
   * Recently seen transactions remembered by sender and nonce. A sender's earlier transactions
   * matter only while they are pending, seconds; each entry holds a whole transaction (a
   * deployment's input is kilobytes), so 20,000 of them would keep tens of MB alive.
   */
  senderMemory: 4_096,
} as const;

/** A pool over `reconcileMaxPool` is reconciled with at most this often. */
const LARGE_POOL_RECONCILE_MS = 10_000;

/** Missed transactions fetched per request in a catch-up. */
const CATCH_UP_BATCH = 250;

/** JSON-RPC "method not found": the node does not offer `txpool_content`. */
const METHOD_NOT_FOUND = -32601;

const defaultNow = () => performance.timeOrigin + performance.now();

export function createMempoolSource(options: MempoolSourceOptions): MempoolSource {
  validateOptions(options);
  const log = options.logger.child({ component: "source" });
  const now = options.now ?? defaultNow;
  const priorityOf = options.priority ?? defaultPriority;
  const wsShown = redactUrl(options.wsUrl);
  const httpShown = redactUrl(options.httpUrl);
  const backoff = {
    initialDelayMs: options.reconnect?.initialDelayMs ?? DEFAULTS.initialDelayMs,
    maxDelayMs: options.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs,
  };
  const keepAlive = {
    intervalMs: options.keepAlive?.intervalMs ?? DEFAULTS.keepAliveIntervalMs,
    timeoutMs: options.keepAlive?.timeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
  };
  const http = createRpc(options.httpUrl, { timeoutMs: DEFAULTS.httpTimeoutMs });

  const queue = createPriorityQueue<PendingTx>(options.queueCapacity ?? DEFAULTS.queueCapacity);
  const reconcileMaxPool = options.reconcileMaxPool ?? 2_000;
  /** When a pool over the limit was last read whole at a head. */
  let lastLargeReconcile = Number.NEGATIVE_INFINITY;
  const seenHashes = createSeenHashes(options.dedupCapacity ?? DEFAULTS.dedupCapacity);
  const seenHeads = createSeenHashes(DEFAULTS.headMemory);
  /** Recently seen transactions by sender and nonce (oldest first), for `pendingBefore`. */
  const bySenderNonce = new Map<string, PendingTx>();
  const headListeners = new Set<(head: Head) => void>();
  /** Callers of next() waiting for a transaction of at least `min` priority. */
  const waiters: { min: number; wake: (tx: PendingTx | undefined) => void }[] = [];
  /** Hands queued transactions to waiters whose minimum priority they meet, in waiting order. */
  function serveWaiters(): void {
    for (let i = 0; i < waiters.length && queue.size > 0; ) {
      const w = waiters[i] as (typeof waiters)[number];
      if ((queue.topPriority() ?? Number.NEGATIVE_INFINITY) >= w.min) {
        waiters.splice(i, 1);
        w.wake(queue.pop());
      } else i++;
    }
  }
  const counters = {
    seen: 0,
    duplicates: 0,
    enqueued: 0,
    evicted: 0,
    malformed: 0,
    reconnects: 0,
    caughtUp: 0,
    requeued: 0,
    reconcilesSkipped: 0,
  };

  /** Aborted by stop(): cancels a socket that is still opening. */
  const lifetime = new AbortController();
  /** The subscribed socket in use. */
  let socket: RpcSocket | undefined;
  /** A socket that is open but still subscribing (closed by stop() too). */
  let connecting: RpcSocket | undefined;
  let latest: Head | undefined;
  let startPromise: Promise<void> | undefined;
  let stopPromise: Promise<void> | undefined;
  let stopped = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectAttempt = 0;
  let lostAt = 0;
  /** When the socket in use was adopted (for the backoff reset). */
  let adoptedAt = 0;
  let txpoolUnsupported = false;
  /** Catch-ups run one after another, never interleaved. */
  let catchUpChain: Promise<void> = Promise.resolve();
  let catchUpRunning = false;
  /** Work stop() waits for, so nothing outlives the source. */
  const inflight = new Set<Promise<unknown>>();

  const evictions = createThrottledReport({
    intervalMs: DEFAULTS.reportIntervalMs,
    maxSamples: DEFAULTS.reportSamples,
    now,
    report: (count, hashes) =>
      log.warn(
        { count, hashes, capacity: queue.capacity, evicted_total: counters.evicted },
        "Evicted transactions from full queue",
      ),
  });
  const malformedReport = createThrottledReport({
    intervalMs: DEFAULTS.reportIntervalMs,
    maxSamples: DEFAULTS.reportSamples,
    now,
    report: (count, reasons) =>
      log.warn(
        { count, reasons, malformed_total: counters.malformed },
        "Ignored malformed messages from the node",
      ),
  });
  const priorityFailures = createThrottledReport({
    intervalMs: DEFAULTS.reportIntervalMs,
    maxSamples: DEFAULTS.reportSamples,
    now,
    report: (count, errors) =>
      log.error({ count, errors }, "Priority function failed; used the default priority instead"),
  });

  function track<T>(promise: Promise<T>): Promise<T> {
    inflight.add(promise);
    void promise.finally(() => inflight.delete(promise)).catch(() => undefined);
    return promise;
  }

  function malformed(reason: string): void {
    counters.malformed++;
    malformedReport.record(reason);
  }

  /** The priority to queue `tx` with; a broken priority function must not lose transactions. */
  function rank(tx: PendingTx): number {
    try {
      const p = priorityOf(tx);
      if (!Number.isNaN(p)) return p;
      priorityFailures.record(`NaN for ${tx.hash}`);
    } catch (error) {
      priorityFailures.record(describeError(error));
    }
    return defaultPriority(tx);
  }

  /** Dedups and queues one transaction; true when it was new. */
  function accept(tx: PendingTx): boolean {
    counters.seen++;
    if (!seenHashes.add(tx.hash)) {
      counters.duplicates++;
      return false;
    }
    const key = `${tx.from.toLowerCase()}:${tx.nonce}`;
    bySenderNonce.delete(key); // a replacement is the newest
    bySenderNonce.set(key, tx);
    if (bySenderNonce.size > DEFAULTS.senderMemory)
      bySenderNonce.delete(bySenderNonce.keys().next().value as string);
    counters.enqueued++;
    push(tx, rank(tx));
    return true;
  }

  /** Queues `tx`, counting (and logging) the transaction a full queue evicts for it. */
  function push(tx: PendingTx, priority: number): void {
    const evicted = queue.push(tx, priority);
    if (evicted !== undefined) {
      counters.evicted++;
      evictions.record(evicted.hash);
    }
    serveWaiters();
  }

  function onPendingNotification(result: unknown): void {
    if (stopped) return;
    const parsed = parsePendingTx(result, now());
    if (parsed.ok) accept(parsed.value);
    else malformed(typeof result === "string" ? "got a hash, not a full transaction object" : parsed.reason);
  }

  function emitHead(head: Head, fromCatchUp: boolean): void {
    if (!seenHeads.add(head.hash)) return;
    // A head fetched over HTTP may be older than one the socket delivered meanwhile.
    if (fromCatchUp && latest !== undefined && head.number < latest.number) return;
    latest = head;
    for (const listener of headListeners) {
      try {
        listener(head);
      } catch (error) {
        log.error({ err: describeError(error), block: head.number.toString() }, "Head listener failed");
      }
    }
  }

  function onHeadNotification(result: unknown): void {
    if (stopped) return;
    const parsed = parseHead(result, now());
    if (parsed.ok) {
      emitHead(parsed.value, false);
      // A node may drop pending-transaction notifications under load (Anvil's subscription
      // channel is bounded): once per head, compare with the pool and take what was missed.
      if (!catchUpRunning) void catchUp("reconcile");
    } else malformed(parsed.reason);
  }

  /**
   * Opens the connection: one socket for pending transactions and one for heads, each subscribed
   * to its stream, used and lost as one (either closing ends both). Heads have a socket of their
   * own because a node sends each socket's notifications in order: under a flood of pending
   * transactions a head waited behind them (at 1,000 tx/s on the devnet the daemon heard of
   * blocks a second late and simulated on the state before). Closed again on failure.
   */
  async function connect(): Promise<RpcSocket> {
    let self: RpcSocket | undefined;
    const open = () =>
      openRpcSocket({
        url: options.wsUrl,
        connectTimeoutMs: DEFAULTS.connectTimeoutMs,
        requestTimeoutMs: DEFAULTS.requestTimeoutMs,
        keepAlive,
        signal: lifetime.signal,
        onMalformed: malformed,
        onClose: (reason) => {
          if (self !== undefined) lose(self, reason);
        },
      });
    const opened = await Promise.allSettled([open(), open()]);
    const [txs, heads] = opened.map((o) => (o.status === "fulfilled" ? o.value : undefined));
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (!txs || !heads || failed) {
      txs?.close();
      heads?.close();
      throw failed?.reason ?? new RpcError("could not open the WebSocket connection");
    }
    const s: RpcSocket = {
      request: (method, params) => txs.request(method, params),
      subscribe: (params, onResult) => txs.subscribe(params, onResult),
      isOpen: () => txs.isOpen() && heads.isOpen(),
      close: () => {
        txs.close();
        heads.close();
      },
    };
    self = s;
    connecting = s;
    try {
      if (stopped) throw new RpcError("stopped while connecting");
      // Either socket may have closed while the other opened.
      if (!s.isOpen()) throw new RpcError("the WebSocket connection closed while opening");
      await Promise.all([
        txs.subscribe(["newPendingTransactions", true], onPendingNotification),
        heads.subscribe(["newHeads"], onHeadNotification),
      ]);
      return s;
    } catch (error) {
      s.close();
      throw error;
    } finally {
      connecting = undefined;
    }
  }

  /** Makes `s` the socket in use; it may have died in the meantime. */
  function adopt(s: RpcSocket): void {
    socket = s;
    adoptedAt = now();
    if (!s.isOpen()) lose(s, "closed while subscribing");
  }

  /** The socket in use ended without stop(): reconnect. */
  function lose(s: RpcSocket, reason: string): void {
    if (stopped || s !== socket) return;
    socket = undefined;
    s.close(); // the connection's other socket, if still open
    lostAt = now();
    if (lostAt - adoptedAt >= DEFAULTS.stableMs) reconnectAttempt = 0;
    log.warn({ url: wsShown, reason }, "Lost WebSocket connection");
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer !== undefined) return;
    const delay = backoffDelay(reconnectAttempt, backoff);
    reconnectAttempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void track(reconnect(delay));
    }, delay);
  }

  async function reconnect(lastDelayMs: number): Promise<void> {
    let s: RpcSocket;
    try {
      s = await connect();
    } catch (error) {
      if (stopped) return;
      log.warn(
        { url: wsShown, attempt: reconnectAttempt, err: describeError(error), waited_ms: lastDelayMs },
        "Could not reconnect; will retry",
      );
      scheduleReconnect();
      return;
    }
    if (stopped) {
      s.close();
      return;
    }
    counters.reconnects++;
    log.info(
      { url: wsShown, attempts: reconnectAttempt, down_ms: Math.round(now() - lostAt) },
      "Reconnected",
    );
    adopt(s);
    await catchUp("reconnect");
  }

  /**
   * Whether the node's pool is small enough to reconcile with at this head. A node that has fallen
   * behind holds tens of thousands of transactions: fetching and parsing all of them every head
   * took the daemon's heap from ~100 MB to 372 MB and stalled it for a second, and kept the node
   * busy serialising its pool. Such a pool is read at most every LARGE_POOL_RECONCILE_MS instead:
   * a node that drops notifications under load (Anvil does) still has them found within seconds.
   */
  async function poolSmallEnough(): Promise<boolean> {
    try {
      const status = await http.call<{ pending?: string; queued?: string }>("txpool_status");
      const size = Number(BigInt(status.pending ?? "0x0")) + Number(BigInt(status.queued ?? "0x0"));
      return size <= reconcileMaxPool;
    } catch {
      return true; // no txpool_status: try the content itself, as before
    }
  }

  /** Queues one catch-up after any running one. Never rejects. */
  function catchUp(reason: "start" | "reconnect" | "reconcile"): Promise<void> {
    catchUpRunning = true;
    catchUpChain = catchUpChain
      .then(() => runCatchUp(reason))
      .finally(() => {
        catchUpRunning = false;
      })
      .catch((error: unknown) => log.error({ err: describeError(error), reason }, "Catch-up failed"));
    return track(catchUpChain);
  }

  /**
   * Fetches the latest block and `txpool_content` over HTTP: heads and transactions announced
   * while no socket was subscribed (or before Vigil started) would otherwise never be seen.
   */
  async function runCatchUp(reason: "start" | "reconnect" | "reconcile"): Promise<void> {
    if (reason === "reconcile" && txpoolUnsupported) return;
    if (reason === "reconcile" && !(await poolSmallEnough())) {
      if (now() - lastLargeReconcile < LARGE_POOL_RECONCILE_MS) {
        counters.reconcilesSkipped++;
        return;
      }
      lastLargeReconcile = now();
    }
    const [pool, block] = await Promise.allSettled([
      txpoolUnsupported
        ? Promise.resolve(undefined)
        : readPoolHashes(options.httpUrl, {
            timeoutMs: DEFAULTS.httpTimeoutMs,
            signal: lifetime.signal,
            limit: queue.capacity,
            // What the subscription delivered is only counted (and kept remembered): not fetched.
            isKnown: (hash) => {
              if (!seenHashes.has(hash)) return false;
              counters.seen++;
              counters.duplicates++;
              seenHashes.add(hash);
              return true;
            },
          }),
      reason === "reconcile"
        ? Promise.resolve(undefined)
        : http.call("eth_getBlockByNumber", ["latest", false]),
    ]);
    if (stopped) return;
    const seenAt = now();

    if (reason === "reconcile") {
      // The head came from the socket; nothing to fetch.
    } else if (block.status === "fulfilled") {
      const head = parseHead(block.value, seenAt);
      if (head.ok) emitHead(head.value, true);
      else malformed(head.reason);
    } else {
      log.warn({ url: httpShown, err: describeError(block.reason) }, "Could not fetch the latest block");
    }

    if (txpoolUnsupported) return;
    if (pool.status === "rejected") {
      if (pool.reason instanceof RpcError && pool.reason.code === METHOD_NOT_FOUND) {
        txpoolUnsupported = true;
        log.warn(
          { url: httpShown },
          "The node does not offer txpool_content; transactions sent while disconnected may be missed",
        );
      } else {
        log.warn(
          { url: httpShown, err: describeError(pool.reason), reason },
          "Could not catch up from txpool_content",
        );
      }
      return;
    }
    const hashes = pool.value;
    if (hashes === undefined) return;
    const added = await fetchMissed(hashes.unknown);
    counters.caughtUp += added;
    const fields = {
      count: added,
      pool_size: hashes.total,
      ...(hashes.truncated ? { truncated: true } : {}),
    };
    if (reason !== "reconcile") log.info({ ...fields, reason }, "Caught up from txpool_content");
    else if (added > 0) log.warn(fields, "Found pending transactions the subscription missed");
  }

  /**
   * Fetches the transactions behind `hashes` (in the pool, never delivered by the subscription),
   * a batch at a time, and queues those still pending. Returns how many were new.
   */
  async function fetchMissed(hashes: readonly string[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < hashes.length && !stopped; i += CATCH_UP_BATCH) {
      const chunk = hashes.slice(i, i + CATCH_UP_BATCH);
      let answers: unknown[];
      try {
        answers = await http.batch(chunk.map((h) => ({ method: "eth_getTransactionByHash", params: [h] })));
      } catch (error) {
        log.warn({ url: httpShown, err: describeError(error) }, "Could not fetch missed transactions");
        return added;
      }
      const seenAt = now();
      for (const raw of answers) {
        // Gone (mined, replaced, dropped) since the pool was read: nothing to screen.
        if (raw === null || raw instanceof RpcError) continue;
        if (typeof raw === "object" && (raw as { blockNumber?: unknown }).blockNumber) continue;
        const tx = parsePendingTx(raw, seenAt);
        if (!tx.ok) malformed(tx.reason);
        else if (accept(tx.value)) added++;
      }
    }
    return added;
  }

  async function start(): Promise<void> {
    if (stopped) throw new VigilError("the mempool source was stopped", { hint: "create a new source" });
    let s: RpcSocket;
    try {
      s = await connect();
    } catch (error) {
      if (stopped) return;
      throw new RpcError(`cannot reach ${wsShown}`, {
        details: [describeError(error)],
        hint:
          "check that the node is running and serves JSON-RPC over WebSocket at this URL with eth_subscribe " +
          "(Anvil: ws://127.0.0.1:8545; Geth: --ws --ws.api eth,txpool), and that it supports " +
          '"newPendingTransactions" with full transactions',
        cause: error,
      });
    }
    if (stopped) {
      s.close();
      return;
    }
    adopt(s);
    log.info({ url: wsShown }, "Subscribed to pending transactions");
    await catchUp("start");
  }

  return {
    start() {
      startPromise ??= track(start());
      return startPromise;
    },

    stop() {
      stopPromise ??= (async () => {
        stopped = true;
        lifetime.abort();
        if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
        reconnectTimer = undefined;
        socket?.close();
        connecting?.close();
        socket = undefined;
        for (const w of waiters.splice(0)) w.wake(undefined);
        const unprocessed = queue.clear();
        evictions.flush();
        malformedReport.flush();
        priorityFailures.flush();
        await Promise.allSettled([...inflight]);
        log.info({ unprocessed, ...counters }, "Stopped mempool source");
      })();
      return stopPromise;
    },

    pendingBefore(tx, fromNonce) {
      const out: PendingTx[] = [];
      for (let n = fromNonce; n < tx.nonce; n++) {
        const p = bySenderNonce.get(`${tx.from.toLowerCase()}:${n}`);
        if (!p) return undefined;
        out.push(p);
      }
      return out;
    },
    requeue(tx, priority) {
      if (stopped) return;
      counters.requeued++;
      push(tx, priority);
    },

    next(signal, nextOptions = {}) {
      if (stopped || signal?.aborted) return Promise.resolve(undefined);
      const min = nextOptions.minPriority ?? Number.NEGATIVE_INFINITY;
      if ((queue.topPriority() ?? Number.NEGATIVE_INFINITY) >= min) {
        const tx = queue.pop();
        if (tx !== undefined) return Promise.resolve(tx);
      }
      return new Promise((resolve) => {
        const waiter = {
          min,
          wake: (value: PendingTx | undefined) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(value);
          },
        };
        const onAbort = () => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(undefined);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },

    onHead(listener) {
      headListeners.add(listener);
      return () => {
        headListeners.delete(listener);
      };
    },

    latestHead: () => latest,

    stats: () => ({ ...counters, queued: queue.size }),

    connected: () => socket?.isOpen() ?? false,
  };
}

/** Fails fast, naming the field, on options the source could never work with. */
function validateOptions(options: MempoolSourceOptions): void {
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new InputError(`source.${name} must be a positive integer, got ${v}`);
    }
  };
  positiveInt("queueCapacity", options.queueCapacity);
  positiveInt("dedupCapacity", options.dedupCapacity);
  positiveInt("reconnect.initialDelayMs", options.reconnect?.initialDelayMs);
  positiveInt("reconnect.maxDelayMs", options.reconnect?.maxDelayMs);
  positiveInt("keepAlive.intervalMs", options.keepAlive?.intervalMs);
  positiveInt("keepAlive.timeoutMs", options.keepAlive?.timeoutMs);
  const protocol = (url: string) => {
    try {
      return new URL(url).protocol;
    } catch {
      return undefined;
    }
  };
  if (!["ws:", "wss:"].includes(protocol(options.wsUrl) ?? "")) {
    throw new InputError(`source.wsUrl must be a ws:// or wss:// URL, got ${redactUrl(options.wsUrl)}`, {
      hint: "use the node's WebSocket endpoint, e.g. ws://127.0.0.1:8545",
    });
  }
  if (!["http:", "https:"].includes(protocol(options.httpUrl) ?? "")) {
    throw new InputError(
      `source.httpUrl must be an http:// or https:// URL, got ${redactUrl(options.httpUrl)}`,
      {
        hint: "use the node's HTTP JSON-RPC endpoint, e.g. http://127.0.0.1:8545",
      },
    );
  }
}
