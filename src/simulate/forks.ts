import { type AnvilInstance, startAnvil } from "../internal/anvil.ts";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import { createRpc, type Rpc } from "../internal/rpc.ts";

/**
 * A pool of Anvil forks of the upstream node, kept at the upstream head. A fork is reset
 * (`anvil_reset`) to each new head while idle, or as soon as it is released if busy; `acquire`
 * hands out an idle fork that is at the newest head known, waiting for a reset to finish if
 * needed. Forks fetch state lazily from upstream, so keeping the same processes (rather than
 * starting new ones) keeps their caches warm.
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
   * and keeps others off it (for work that mines on the fork).
   */
  acquire(options?: { signal?: AbortSignal; exclusive?: boolean }): Promise<Fork>;
  release(fork: Fork): void;
  /** Tells the pool about a new upstream head. */
  advance(head: bigint): void;
  health(): {
    forks: number;
    idle: number;
    atHead: number;
    head: bigint;
    resets: number;
    resetFailures: number;
    /** Resets followed by a load of the state known at the head, and loads that failed. */
    primed: number;
    primeFailures: number;
  };
  stop(): Promise<void>;
};

type Slot = {
  fork: Fork;
  anvil: AnvilInstance;
  users: number;
  exclusive: boolean;
  resetting: Promise<void> | undefined;
};

/** Longest a reset fork waits for the state known at its head before serving without it. */
const PRIME_WAIT_MS = 250;

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
}): Promise<ForkPool> {
  const perFork = options.perFork ?? 1;
  const { logger } = options;
  const upstream = createRpc(options.upstreamUrl);
  let head = options.atBlock ?? BigInt(await upstream.call<string>("eth_blockNumber"));
  let resets = 0;
  let resetFailures = 0;
  let primed = 0;
  let primeFailures = 0;
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

  /** Loads the state known at `target` into a fork just reset to it; a failure only costs speed. */
  async function primeSlot(slot: Slot, target: bigint): Promise<void> {
    if (!options.prime) return;
    try {
      // The read-ahead behind the state may be slow (a remote node): never hold a fork for it.
      let timer: NodeJS.Timeout | undefined;
      const state = await Promise.race([
        options.prime(target),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), PRIME_WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (!state || stopped) return;
      await slot.fork.rpc.call("anvil_loadState", [state]);
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

  function reset(slot: Slot): void {
    if (slot.resetting || slot.users > 0 || stopped || slot.fork.head === head) return;
    const target = head;
    slot.resetting = (async () => {
      try {
        await slot.fork.rpc.call("anvil_reset", [
          { forking: { jsonRpcUrl: options.upstreamUrl, blockNumber: Number(target) } },
        ]);
        resets++;
        await primeSlot(slot, target);
        slot.fork.head = target;
      } catch (error) {
        resetFailures++;
        if (!stopped) logger.warn({ fork: slot.fork.id, err: describeError(error) }, "Failed to reset fork");
      } finally {
        slot.resetting = undefined;
        wake();
        // A newer head may have arrived during the reset.
        if (slot.fork.head !== head) reset(slot);
      }
    })();
  }

  return {
    async acquire(acquireOptions = {}) {
      const { signal, exclusive = false } = acquireOptions;
      for (;;) {
        if (stopped) throw new Error("fork pool stopped");
        signal?.throwIfAborted();
        const usable = (s: Slot) => !s.resetting && !s.exclusive && s.fork.head === head;
        // Least loaded first, so simulations spread over the forks.
        const ready = slots
          .filter((s) => usable(s) && (exclusive ? s.users === 0 : s.users < perFork))
          .sort((a, b) => a.users - b.users)[0];
        if (ready) {
          ready.users++;
          ready.exclusive = exclusive;
          return ready.fork;
        }
        for (const s of slots) reset(s);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
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
      for (const s of slots) reset(s);
    },
    health() {
      return {
        forks: slots.length,
        idle: slots.filter((s) => s.users === 0 && !s.resetting).length,
        atHead: slots.filter((s) => s.fork.head === head).length,
        head,
        resets,
        resetFailures,
        primed,
        primeFailures,
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
