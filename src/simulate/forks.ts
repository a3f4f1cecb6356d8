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
 * A reset takes 35-45 ms on a busy machine (measured at 200 tx/s on two cores). If every fork
 * reset at once, nothing would be screened for that long after each head. So at most half the
 * forks reset at a time, and the others go on serving at the previous head meanwhile: `acquire`
 * hands out a fork at the newest head, and to a caller that says a fork one head behind will do
 * (`behindOk`: screening the common load), one of those when no fork at the newest head is free.
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
    /** Time spent resetting, summed over resets (ms). */
    resetMs: number;
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
};

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
  /** Awaited before each reset: lets a test hold a fork's reset open. */
  beforeReset?: () => Promise<void>;
}): Promise<ForkPool> {
  const perFork = options.perFork ?? 1;
  const { logger } = options;
  const upstream = createRpc(options.upstreamUrl);
  let head = options.atBlock ?? BigInt(await upstream.call<string>("eth_blockNumber"));
  let resets = 0;
  let resetFailures = 0;
  let servedBehind = 0;
  const timing = { resetMs: 0 };
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
          return { fork, anvil, users: 0, exclusive: false, resetting: undefined };
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

  /** Forks resetting at once, at most: the others serve meanwhile. */
  const maxResetting = Math.max(1, Math.floor(slots.length / 2));

  function reset(slot: Slot): void {
    if (slot.resetting || slot.users > 0 || stopped || slot.fork.head === head) return;
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
        resetMs: Math.round(timing.resetMs),
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
      await Promise.allSettled(slots.map((s) => s.resetting));
      await Promise.allSettled(slots.map((s) => s.anvil.stop()));
    },
  };
}
