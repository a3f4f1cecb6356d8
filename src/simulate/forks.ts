import { type AnvilInstance, startAnvil } from "../internal/anvil.ts";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import { createRpc, type Rpc } from "../internal/rpc.ts";

/**
 * A pool of Anvil forks of the upstream node, kept at the upstream head. A fork is reset
 * (`anvil_reset`) to each new head while idle, or as soon as it is released if busy. Forks fetch
 * state lazily from upstream, so keeping the same processes (rather than starting new ones) keeps
 * their caches warm.
 *
 * A reset takes 40-50 ms on a busy machine (measured at 200 tx/s on two cores), and the load of
 * the known state that follows it another 60-90 ms; a fork serves as soon as its reset is done,
 * with the load running alongside. If every fork reset at once, nothing would be screened for
 * that long after each head. So at most half the forks reset at a time, and the others go on
 * serving at the previous head meanwhile: `acquire` hands out a fork at the newest head, and to a caller that says a fork
 * one head behind will do (`behindOk`: screening the common load), one of those when no fork at
 * the newest head is free.
 */
export type Fork = {
  readonly id: number;
  readonly rpc: Rpc;
  readonly url: string;
  /** Block the fork's state is at. */
  head: bigint;
};

export type ForkPool = {
  /**
   * Resolves with a fork at the newest head; call `release` when done. A fork serves up to
   * `perFork` simulations at once (read-only calls); `exclusive` waits until it serves none
   * and keeps others off it (for work that mines on the fork). An `urgent` caller (a transaction
   * ranked dangerous) may go over `perFork` rather than wait for a simulation to end.
   */
  acquire(options?: AcquireOptions & { signal?: AbortSignal }): Promise<Fork>;
  /** `acquire` without waiting: a fork free now, or undefined. */
  tryAcquire(options?: AcquireOptions): Fork | undefined;
  /** The newest head the pool knows of (a fork's `head` below it means that fork serves behind). */
  newest(): bigint;
  release(fork: Fork): void;
  /** Tells the pool about a new upstream head. */
  advance(head: bigint): void;
  health(): {
    forks: number;
    idle: number;
    atHead: number;
    /** Screenings served by a fork one head behind while the others reset. */
    servedBehind: number;
    head: bigint;
    resets: number;
    resetFailures: number;
    /** Resets followed by a load of the state known at the head, and loads that failed. */
    primed: number;
    primeFailures: number;
    /** Where a reset's time goes, summed over resets (ms): the reset, waiting for the known state, loading it. */
    resetMs: number;
    primeWaitMs: number;
    loadMs: number;
    /** From learning of a head to the first fork serving at it: the heads measured, their sum and the longest (ms). */
    headReady: { heads: number; totalMs: number; maxMs: number };
  };
  stop(): Promise<void>;
};

export type AcquireOptions = { exclusive?: boolean; behindOk?: boolean; urgent?: boolean };

type Slot = {
  fork: Fork;
  anvil: AnvilInstance;
  users: number;
  exclusive: boolean;
  resetting: Promise<void> | undefined;
  /** The load of the state known at its head, still running while the fork already serves. */
  priming: Promise<void> | undefined;
};

/** Longest a reset fork's load waits for the state known at its head (its read-ahead) before giving up. */
const PRIME_WAIT_MS = 250;
/** How many heads behind the newest a fork may serve while others reset. */
const BEHIND_HEADS = 1n;

export async function createForkPool(options: {
  upstreamUrl: string;
  size: number;
  logger: Logger;
  timeoutMs?: number;
  /** Fork at this block instead of the upstream head (post-mortems). */
  atBlock?: bigint;
  /** Simulations one fork serves at once (default 1). */
  perFork?: number;
  /**
   * State known at a head (an `anvil_loadState` dump), loaded into each fork right after its
   * reset to that head and before it serves: the fork then runs without fetching that state.
   */
  prime?: (head: bigint) => Promise<`0x${string}` | undefined>;
  /** Awaited before each reset: lets a test hold a fork's reset open. */
  beforeReset?: () => Promise<void>;
}): Promise<ForkPool> {
  const perFork = options.perFork ?? 1;
  const { logger } = options;
  const upstream = createRpc(options.upstreamUrl);
  let head = options.atBlock ?? BigInt(await upstream.call<string>("eth_blockNumber"));
  let resets = 0;
  let resetFailures = 0;
  let primed = 0;
  let primeFailures = 0;
  let servedBehind = 0;
  const timing = { resetMs: 0, primeWaitMs: 0, loadMs: 0 };
  const headReady = { heads: 0, totalMs: 0, maxMs: 0 };
  /** When the pool learnt of `head`, until a fork serves at it. */
  let headSince: number | undefined;
  let stopped = false;
  const waiters: (() => void)[] = [];

  // Start in parallel; if any fails, stop the ones that started (no orphans).
  const started = await Promise.allSettled(
    Array.from({ length: options.size }, (_, id) =>
      // No dev accounts: a fork with them fetches all ten from upstream at start and at every
      // reset (~40 requests per head); simulations and proofs impersonate instead.
      startAnvil({ forkUrl: options.upstreamUrl, forkBlockNumber: head, noMining: true, accounts: 0 }).then(
        (anvil): Slot => {
          const fork: Fork = {
            id,
            rpc: createRpc(anvil.rpcUrl, { timeoutMs: options.timeoutMs ?? 10_000 }),
            url: anvil.rpcUrl,
            head,
          };
          return { fork, anvil, users: 0, exclusive: false, resetting: undefined, priming: undefined };
        },
      ),
    ),
  );
  const slots = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(slots.map((s) => s.anvil.stop()));
    throw failed.reason;
  }
  logger.info({ forks: slots.length, head: Number(head) }, "Started fork pool");

  function wake() {
    const w = waiters.splice(0);
    for (const resolve of w) resolve();
  }

  /** Loads the state known at `target` into a fork just reset to it; a failure only costs speed. */
  async function primeSlot(slot: Slot, target: bigint): Promise<void> {
    if (!options.prime) return;
    try {
      // The read-ahead behind the state may be slow (a remote node): never hold a fork for it.
      let timer: NodeJS.Timeout | undefined;
      const waitStarted = performance.now();
      const state = await Promise.race([
        options.prime(target),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), PRIME_WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      const loadStarted = performance.now();
      timing.primeWaitMs += loadStarted - waitStarted;
      if (!state || stopped) return;
      await slot.fork.rpc.call("anvil_loadState", [state]);
      timing.loadMs += performance.now() - loadStarted;
      primed++;
    } catch (error) {
      primeFailures++;
      if (primeFailures === 1 && !stopped)
        logger.warn(
          { fork: slot.fork.id, err: describeError(error) },
          "Failed to load known state into a fork; it fetches state on demand instead",
        );
    }
  }

  /** Forks resetting at once, at most: the others serve meanwhile. */
  const maxResetting = Math.max(1, Math.floor(slots.length / 2));

  function reset(slot: Slot): void {
    if (slot.resetting || slot.priming || slot.users > 0 || stopped || slot.fork.head === head) return;
    if (slots.filter((s) => s.resetting).length >= maxResetting) return;
    const target = head;
    slot.resetting = (async () => {
      try {
        await options.beforeReset?.();
        const started = performance.now();
        await slot.fork.rpc.call("anvil_reset", [
          { forking: { jsonRpcUrl: options.upstreamUrl, blockNumber: Number(target) } },
        ]);
        timing.resetMs += performance.now() - started;
        resets++;
        // The fork serves at once: what it reads meanwhile comes through the state cache, one
        // local round trip per value, and the load (the same values, read at the same head)
        // runs alongside. Waiting for it kept a transaction that needs the newest block (one
        // calling a contract deployed in it) ~90 ms longer at 200 tx/s.
        slot.priming = primeSlot(slot, target).finally(() => {
          slot.priming = undefined;
          for (const s of slots) reset(s);
          wake();
        });
        slot.fork.head = target;
        if (target === head && headSince !== undefined) {
          const lag = performance.now() - headSince;
          headSince = undefined;
          headReady.heads++;
          headReady.totalMs += lag;
          headReady.maxMs = Math.max(headReady.maxMs, lag);
        }
      } catch (error) {
        resetFailures++;
        if (!stopped) logger.warn({ fork: slot.fork.id, err: describeError(error) }, "Failed to reset fork");
      } finally {
        slot.resetting = undefined;
        // The forks that waited their turn reset now, and this one again if a newer head came.
        for (const s of slots) reset(s);
        wake();
      }
    })();
  }

  /** A free fork at the newest head (or one behind, if `behindOk`), marked in use; else undefined. */
  function take({ exclusive = false, behindOk = false, urgent = false }: AcquireOptions): Fork | undefined {
    const oldest = behindOk ? head - BEHIND_HEADS : head;
    const usable = (s: Slot) => !s.resetting && !s.exclusive && s.fork.head >= oldest;
    // The newest state first, then the least loaded, so simulations spread over the forks.
    const ready = slots
      .filter((s) => usable(s) && (exclusive ? s.users === 0 : urgent || s.users < perFork))
      .sort((a, b) =>
        a.fork.head === b.fork.head ? a.users - b.users : a.fork.head > b.fork.head ? -1 : 1,
      )[0];
    if (!ready) return undefined;
    ready.users++;
    ready.exclusive = exclusive;
    if (ready.fork.head !== head) servedBehind++;
    return ready.fork;
  }

  return {
    async acquire(acquireOptions = {}) {
      const { signal, ...wanted } = acquireOptions;
      for (;;) {
        if (stopped) throw new Error("fork pool stopped");
        signal?.throwIfAborted();
        const ready = take(wanted);
        if (ready) return ready;
        for (const s of slots) reset(s);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    tryAcquire(wanted = {}) {
      return stopped ? undefined : take(wanted);
    },
    newest: () => head,
    release(fork) {
      const slot = slots[fork.id];
      if (!slot) return;
      slot.users = Math.max(0, slot.users - 1);
      slot.exclusive = false;
      reset(slot);
      wake();
    },
    advance(newHead) {
      if (newHead <= head) return;
      head = newHead;
      headSince = performance.now();
      for (const s of slots) reset(s);
    },
    health() {
      return {
        forks: slots.length,
        idle: slots.filter((s) => s.users === 0 && !s.resetting).length,
        atHead: slots.filter((s) => s.fork.head === head).length,
        servedBehind,
        head,
        resets,
        resetFailures,
        primed,
        primeFailures,
        resetMs: Math.round(timing.resetMs),
        primeWaitMs: Math.round(timing.primeWaitMs),
        loadMs: Math.round(timing.loadMs),
        headReady: {
          ...headReady,
          totalMs: Math.round(headReady.totalMs),
          maxMs: Math.round(headReady.maxMs),
        },
      };
    },
    async stop() {
      stopped = true;
      wake();
      await Promise.allSettled(slots.flatMap((s) => [s.resetting, s.priming]));
      await Promise.allSettled(slots.map((s) => s.anvil.stop()));
    },
  };
}
