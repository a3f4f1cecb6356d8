// Records simulations of the drill's scenarios as test fixtures (test/fixtures/traces/*.json):
// a devnet, the world, each scenario's transaction simulated on a fork exactly as the daemon
// does, then mined so the next scenario starts from the state the drill would have.
// Run: npx tsx scripts/record-traces.ts
import fs from "node:fs";
import path from "node:path";
import { createWalletClient, type Hex, http, keccak256, parseGwei } from "viem";
import { execAndMine } from "../src/devnet/chain.ts";
import { startDevnet } from "../src/devnet/devnet.ts";
import { devnetDrillAccounts } from "../src/drill/drill.ts";
import { DRILL_SCENARIOS, type DrillContext } from "../src/drill/scenarios.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { createForkPool } from "../src/simulate/forks.ts";
import { simulationToJson } from "../src/simulate/serialize.ts";
import { nextBlockContext, simulateTx } from "../src/simulate/simulate.ts";

const outDir = path.resolve(import.meta.dirname, "../test/fixtures/traces");
const net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
try {
  const d = net.deployment;
  const ctx: DrillContext = {
    devnet: net.devnet,
    deployment: d,
    accounts: devnetDrillAccounts(),
    helpers: new Map(),
  };
  const pool = await createForkPool({ upstreamUrl: net.anvil.rpcUrl, size: 1, logger: silentLogger() });
  const index: Record<string, unknown> = {};
  for (const s of DRILL_SCENARIOS) {
    await s.prepare?.(ctx);
    const tx = await s.transaction(ctx);
    const block = await net.devnet.publicClient.getBlock();
    const nonce = await net.devnet.publicClient.getTransactionCount({ address: tx.account.address });
    const wallet = createWalletClient({
      account: tx.account,
      chain: net.devnet.chain,
      transport: http(net.devnet.rpcUrl),
    });
    const raw = await wallet.signTransaction({
      account: tx.account,
      chain: net.devnet.chain,
      ...(tx.to ? { to: tx.to } : {}),
      data: tx.data,
      nonce,
      gas: tx.gas,
      maxPriorityFeePerGas: parseGwei(String(tx.tipGwei)),
      maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + parseGwei(String(tx.tipGwei)),
      type: "eip1559",
    } as never);
    pool.advance(block.number);
    const fork = await pool.acquire();
    const sim = await simulateTx(
      fork,
      {
        hash: keccak256(raw as Hex),
        from: tx.account.address,
        to: tx.to,
        nonce,
        input: tx.data,
        value: 0n,
        gas: tx.gas,
        gasPrice: undefined,
        maxFeePerGas: undefined,
        maxPriorityFeePerGas: parseGwei(String(tx.tipGwei)),
        type: "0x2",
        chainId: d.chainId,
        seenAt: 0,
      },
      nextBlockContext({
        number: block.number,
        timestamp: block.timestamp,
        baseFeePerGas: block.baseFeePerGas ?? null,
        hash: block.hash,
      }),
      { protectedAddresses: [d.market], gasCap: 30_000_000n },
    );
    pool.release(fork);
    // Bytecode in the state diff is bulky and no feature reads it.
    for (const side of [sim.stateDiff.pre, sim.stateDiff.post])
      for (const a of Object.values(side)) delete a.code;
    fs.writeFileSync(path.join(outDir, `${s.name}.json`), `${simulationToJson(sim)}\n`);
    index[s.name] = { kind: s.kind, from: tx.account.address, to: tx.to };
    // Advance the chain as the drill would (attacks included; the market is then drained).
    if (s.kind === "benign")
      await execAndMine(net.devnet, tx.account, {
        ...(tx.to ? { to: tx.to } : {}),
        data: tx.data,
        gas: tx.gas,
      });
    process.stderr.write(`recorded ${s.name}\n`);
  }
  const world = {
    market: d.market,
    flashLender: d.flashLender,
    pricePair: d.uniswap.pricePair,
    fundingPair: d.uniswap.fundingPair,
    scenarios: index,
  };
  fs.writeFileSync(path.join(outDir, "index.json"), `${JSON.stringify(world, null, 2)}\n`);
  await pool.stop();
} finally {
  await net.stop();
}
