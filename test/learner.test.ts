import { encodeFunctionData, type Hex, keccak256, pad, parseUnits } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VulnerableSpotPriceLendingMarket } from "../src/contracts/generated/artifacts.ts";
import { devnetAccount } from "../src/devnet/accounts.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { createBaselineLearner } from "../src/features/learner.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { createRpc } from "../src/internal/rpc.ts";
import { minedTouching } from "../src/simulate/history.ts";
import { normaliseFrame, TRANSFER_TOPIC } from "../src/simulate/simulate.ts";
import type { CallFrame } from "../src/simulate/types.ts";
import { signTx } from "./helpers.ts";

// The baseline learner against a real devnet: market transactions are mined, found through the
// market's logs and token outflows, traced on the node, and folded into the market's history.
describe("baseline learner on a devnet", () => {
  let net: RunningDevnet;
  const mined: Hex[] = [];
  const trader = devnetAccount("trader");

  async function marketTx(functionName: "deposit" | "borrow" | "repay", amount: bigint): Promise<Hex> {
    const data = encodeFunctionData({
      abi: VulnerableSpotPriceLendingMarket.abi,
      functionName,
      args: [amount],
    });
    const raw = await signTx(net.devnet, trader, { to: net.deployment.market, data, gas: 400_000n });
    await net.devnet.publicClient.sendRawTransaction({ serializedTransaction: raw });
    await net.buildBlock();
    return keccak256(raw);
  }

  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
    mined.push(await marketTx("deposit", parseUnits("50", 18)));
    for (let i = 1; i <= 3; i++) mined.push(await marketTx("borrow", parseUnits(String(1000 * i), 6)));
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("finds the mined transactions that involved the market, in block order", async () => {
    const rpc = createRpc(net.anvil.rpcUrl);
    const head = await net.devnet.publicClient.getBlockNumber();
    const found = await minedTouching(rpc, [net.deployment.market], 0n, head);
    const hashes = found.map((f) => f.hash);
    for (const h of mined) expect(hashes).toContain(h);
    const blocks = found.map((f) => f.block);
    expect([...blocks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(blocks);
    expect(await minedTouching(rpc, [net.deployment.market], head + 1n, head)).toEqual([]);
  });

  it("warms from recent blocks by tracing, then learns new blocks from remembered simulations", async () => {
    const upstream = createRpc(net.anvil.rpcUrl);
    const learner = createBaselineLearner({
      upstream,
      protectedAddresses: [net.deployment.market],
      warmBlocks: 1_000,
      baseline: { minObservations: 2, window: 100 },
      logger: silentLogger(),
    });
    try {
      const head = await net.devnet.publicClient.getBlockNumber();
      await learner.warm(head);
      const warmed = learner.stats();
      expect(warmed.traceFailures).toBe(0);
      expect(warmed.traced).toBeGreaterThanOrEqual(mined.length);
      const count = learner.baseline.counts()[net.deployment.market] ?? 0;
      expect(count).toBeGreaterThanOrEqual(mined.length);

      // The next transaction was "simulated while pending": its tree is remembered, not traced again.
      const data = encodeFunctionData({
        abi: VulnerableSpotPriceLendingMarket.abi,
        functionName: "borrow",
        args: [parseUnits("500", 6)],
      });
      const raw = await signTx(net.devnet, trader, { to: net.deployment.market, data, gas: 400_000n });
      const hash = keccak256(raw);
      const root: CallFrame = normaliseFrame(
        (await upstream.call("debug_traceCall", [
          { from: trader.address, to: net.deployment.market, data, gas: "0x61a80" },
          "latest",
          { tracer: "callTracer", tracerConfig: { withLog: true } },
        ])) as never,
      );
      // Only trees the learner can look up are kept: one without a log of the market's, or a
      // transfer out of it, is not.
      const bare: CallFrame = { ...root, to: trader.address, logs: [], calls: [] };
      learner.remember(keccak256("0x01"), bare);
      expect(learner.stats().remembered).toBe(0);
      const transferOut = {
        address: net.deployment.tokens.usd,
        topics: [TRANSFER_TOPIC as Hex, pad(net.deployment.market.toLowerCase() as Hex), pad(trader.address)],
        data: "0x" as Hex,
        position: 0,
      };
      learner.remember(keccak256("0x02"), { ...bare, calls: [{ ...bare, logs: [transferOut] }] });
      expect(learner.stats().remembered).toBe(1);
      learner.remember(hash, root);
      expect(learner.stats().remembered).toBe(2);
      await net.devnet.publicClient.sendRawTransaction({ serializedTransaction: raw });
      const built = await net.buildBlock();
      learner.onHead(built.number);
      const end = Date.now() + 10_000;
      while (learner.stats().learnedTo < built.number && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      const after = learner.stats();
      expect(after.learnedTo).toBe(built.number);
      expect(after.fromCache).toBe(1);
      expect(after.traced).toBe(warmed.traced);
      expect(learner.baseline.counts()[net.deployment.market]).toBe(count + 1);
    } finally {
      await learner.stop();
    }
  });

  it("traces a new block's transactions only once the daemon says the node is quiet", async () => {
    let open: () => void = () => {};
    const opened = new Promise<void>((r) => {
      open = r;
    });
    let asked = 0;
    const learner = createBaselineLearner({
      upstream: createRpc(net.anvil.rpcUrl),
      protectedAddresses: [net.deployment.market],
      warmBlocks: 1,
      baseline: { minObservations: 2, window: 100 },
      logger: silentLogger(),
      quiet: () => {
        asked++;
        return opened;
      },
    });
    try {
      await learner.warm(await net.devnet.publicClient.getBlockNumber());
      const warmed = learner.stats();
      expect(asked).toBe(0); // the warm-up does not wait
      await marketTx("deposit", parseUnits("1", 18)); // mined, never simulated
      const head = await net.devnet.publicClient.getBlockNumber();
      learner.onHead(head);
      await new Promise((r) => setTimeout(r, 300));
      expect(asked).toBe(1);
      expect(learner.stats().traced).toBe(warmed.traced);
      open();
      const end = Date.now() + 10_000;
      while (learner.stats().learnedTo < head && Date.now() < end)
        await new Promise((r) => setTimeout(r, 20));
      expect(learner.stats().traced).toBe(warmed.traced + 1);
    } finally {
      await learner.stop();
    }
  });
});
