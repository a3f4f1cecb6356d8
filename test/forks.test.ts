import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../src/internal/anvil.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { createRpc, type Rpc } from "../src/internal/rpc.ts";
import { createForkPool, type Fork, type ForkPool } from "../src/simulate/forks.ts";

// The fork pool against a real upstream Anvil and real forks. A reset is held open through the
// `beforeReset` hook, so what the pool does meanwhile is observed, not raced.
describe("fork pool", () => {
  let upstream: AnvilInstance;
  let up: Rpc;
  let pool: ForkPool;
  /** Lets the resets held at their start go on. */
  let openGate: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const closeGate = () => {
    gate = new Promise((resolve) => {
      openGate = () => resolve();
    });
  };

  const mine = async () => {
    await up.call("evm_mine");
    return BigInt(await up.call<string>("eth_blockNumber"));
  };
  /** The fork `acquire` gives within `ms`, or undefined if it is still waiting. */
  const within = async (p: Promise<Fork>, ms: number) =>
    Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

  beforeAll(async () => {
    upstream = await startAnvil({});
    up = createRpc(upstream.rpcUrl);
    pool = await createForkPool({
      upstreamUrl: upstream.rpcUrl,
      size: 2,
      logger: silentLogger(),
      beforeReset: () => gate,
    });
  });

  afterAll(async () => {
    openGate();
    await pool?.stop();
    await upstream?.stop();
  });

  it("serves at the previous head while one fork resets, and the newest head to whoever needs it", async () => {
    const start = pool.newest();
    closeGate();
    const next = await mine();
    pool.advance(next);

    // One fork resets (held at its load); the other still serves the previous head.
    const behind = await within(pool.acquire({ behindOk: true }), 1000);
    expect(behind?.head).toBe(start);
    expect(pool.health()).toMatchObject({ atHead: 0, servedBehind: 1 });
    pool.release(behind as Fork);
    // Without waiting: nothing at the newest head yet; the fork behind, to a caller that takes it.
    expect(pool.tryAcquire()).toBeUndefined();
    const now = pool.tryAcquire({ behindOk: true });
    expect(now?.head).toBe(start);
    // That fork now serves its one simulation (perFork 1): full, except to an urgent caller.
    expect(pool.tryAcquire({ behindOk: true })).toBeUndefined();
    const urgent = pool.tryAcquire({ behindOk: true, urgent: true });
    expect(urgent?.id).toBe(now?.id);
    pool.release(urgent as Fork);
    pool.release(now as Fork);

    // By default only a fork at the newest head will do: that waits for the reset.
    const fresh = pool.acquire();
    expect(await within(fresh, 150)).toBeUndefined();
    openGate();
    expect((await fresh).head).toBe(next);
    // The fork that waited its turn resets too, once the first is done.
    pool.release(await fresh);
    for (let i = 0; i < 100 && pool.health().atHead < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.health()).toMatchObject({ atHead: 2, head: next });
  });

  it("never resets both forks at once, and lets no fork serve two heads behind", async () => {
    closeGate();
    const a = await mine();
    pool.advance(a);
    const b = await mine();
    pool.advance(b);
    // One fork is held in its reset; the other is at a - 1, two heads behind b: nothing serves.
    const giveUp = new AbortController();
    const waiting = pool.acquire({ signal: giveUp.signal, behindOk: true });
    expect(await within(waiting, 150)).toBeUndefined();
    const h = pool.health();
    expect(h.forks - h.idle).toBe(1); // the one resetting
    giveUp.abort();
    openGate();
    await expect(waiting).rejects.toThrow();
    for (let i = 0; i < 200 && pool.health().atHead < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.health()).toMatchObject({ atHead: 2, head: b });
  });
});
