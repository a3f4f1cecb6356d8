import fs from "node:fs";
import path from "node:path";
import {
  type Address,
  createWalletClient,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  parseGwei,
} from "viem";
import { Guardian, VulnerableSpotPriceLendingMarket } from "../contracts/generated/artifacts.ts";
import { devnetAccount, devnetPrivateKey } from "../devnet/accounts.ts";
import { type Devnet, withExternalBlocks } from "../devnet/chain.ts";
import { startDevnet } from "../devnet/devnet.ts";
import { execSafeTx, safeCall, safeNonce, signSafeTx } from "../devnet/safe.ts";
import { type Decided, type Resolved, startGuardian } from "../guardian.ts";
import { parseConfig } from "../internal/config.ts";
import type { Logger } from "../internal/logger.ts";
import { DRILL_SCENARIOS, type DrillContext, type Scenario, type ScenarioTx } from "./scenarios.ts";

export type ScenarioResult = {
  name: string;
  kind: "attack" | "benign";
  description: string;
  txHash: Hex;
  detected: boolean;
  decision: "ignore" | "alert" | "pause" | "unseen";
  score: number;
  reasons: string[];
  paused: boolean;
  prevented: boolean;
  /** Drop of the market's lendable balance (USD base units) caused by the transaction. */
  valueLostWei: string;
  minedBlock: string;
  txStatus: "success" | "reverted";
  outcome: string | undefined;
  timings: {
    /** Always 0: times are ms from the moment the daemon first saw the transaction. */
    seenMs: number;
    simulatedMs: number | null;
    decidedMs: number | null;
    bundleSentMs: number | null;
    includedBlock: string | null;
    /** ms from `eth_sendRawTransaction` to the daemon seeing the transaction. */
    sentToSeenMs: number | null;
  };
};

export type DrillReport = {
  scenarios: ScenarioResult[];
  summary: {
    attacks: number;
    prevented: number;
    benign: number;
    falsePauses: number;
    detected: number;
    missed: number;
  };
  blockTimeMs: number;
  recordPath: string;
  deploymentPath: string;
};

export type DrillOptions = {
  blockTimeMs: number;
  /** Where the deployment, the incident record and the daemon log go. */
  outDir: string;
  logger: Logger;
  progress: (line: string) => void;
  scenarios?: readonly Scenario[];
};

const now = () => performance.timeOrigin + performance.now();

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function signScenarioTx(devnet: Devnet, tx: ScenarioTx): Promise<Hex> {
  const wallet = createWalletClient({
    account: tx.account,
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
  });
  const block = await devnet.publicClient.getBlock();
  const nonce = await devnet.publicClient.getTransactionCount({
    address: tx.account.address,
    blockTag: "pending",
  });
  const tip = parseGwei(String(tx.tipGwei));
  const request = await wallet.prepareTransactionRequest({
    account: tx.account,
    chain: devnet.chain,
    ...(tx.to ? { to: tx.to } : {}),
    data: tx.data,
    nonce,
    gas: tx.gas,
    maxPriorityFeePerGas: tip,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + tip,
    type: "eip1559",
  });
  return wallet.signTransaction(request as never);
}

/**
 * The fire drill on a local devnet: devnet + relay + daemon, benign traffic and attacks sent at
 * the start of a slot, and for each what the daemon decided, whether a pause landed ahead of it,
 * and what was lost.
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const { progress, logger } = options;
  const scenarios = options.scenarios ?? DRILL_SCENARIOS;
  fs.mkdirSync(options.outDir, { recursive: true });
  const deploymentPath = path.join(options.outDir, "devnet.json");
  const recordPath = path.join(options.outDir, "incidents.jsonl");
  fs.rmSync(recordPath, { force: true });

  progress(`starting devnet (block time ${options.blockTimeMs} ms) and deploying the world`);
  const net = await startDevnet({
    blockTimeMs: options.blockTimeMs,
    deploymentFile: deploymentPath,
    logger,
    progress: (step) => progress(`  deploying ${step}`),
  });
  try {
    const d = net.deployment;
    const devnet = withExternalBlocks(net.devnet);
    const config = parseConfig({
      chain: { rpcUrl: net.anvil.rpcUrl, wsUrl: net.anvil.wsUrl, chainId: d.chainId },
      guardian: d.guardian.address,
      targets: [{ address: d.market, name: "VulnerableSpotPriceLendingMarket" }],
      sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
      relays: [{ url: net.relayUrl, name: "local-relay" }],
      simulator: { forks: 2 },
      record: { path: recordPath },
    });
    progress("starting the guardian daemon");
    const guardian = await startGuardian({ config, sentinelKey: devnetPrivateKey("sentinel"), logger });
    const decisions = new Map<Hex, Decided>();
    const resolved = new Map<Hex, Resolved>();
    guardian.onDecision((x) => decisions.set(x.tx.hash, x));
    guardian.onResolved((x) => resolved.set(x.tx.hash, x));
    try {
      const ctx: DrillContext = { devnet, deployment: d, helpers: new Map() };
      const results: ScenarioResult[] = [];
      for (const [i, s] of scenarios.entries()) {
        progress(`[${i + 1}/${scenarios.length}] ${s.kind} ${s.name}: ${s.description}`);
        results.push(
          await playScenario(s, ctx, net, {
            decisions,
            resolved,
            blockTimeMs: options.blockTimeMs,
            progress,
          }),
        );
      }
      const attacks = results.filter((r) => r.kind === "attack");
      const benign = results.filter((r) => r.kind === "benign");
      return {
        scenarios: results,
        summary: {
          attacks: attacks.length,
          prevented: attacks.filter((r) => r.prevented).length,
          benign: benign.length,
          falsePauses: benign.filter((r) => r.paused).length,
          detected: attacks.filter((r) => r.detected).length,
          missed: attacks.filter((r) => !r.prevented).length,
        },
        blockTimeMs: options.blockTimeMs,
        recordPath,
        deploymentPath,
      };
    } finally {
      await guardian.stop();
    }
  } finally {
    await net.stop();
  }
}

type Watch = {
  decisions: Map<Hex, Decided>;
  resolved: Map<Hex, Resolved>;
  blockTimeMs: number;
  progress: (line: string) => void;
};

async function playScenario(
  s: Scenario,
  ctx: DrillContext,
  net: Awaited<ReturnType<typeof startDevnet>>,
  w: Watch,
): Promise<ScenarioResult> {
  const d = ctx.deployment;
  const { publicClient } = ctx.devnet;
  const readMarket = <T>(functionName: "paused" | "liquidity") =>
    publicClient.readContract({
      address: d.market,
      abi: VulnerableSpotPriceLendingMarket.abi,
      functionName,
    }) as Promise<T>;

  if (await readMarket<boolean>("paused")) {
    w.progress("  governance lifts the previous pause through the Safe (2 of 3 owners sign)");
    await liftThroughSafe(ctx, d.market);
  }
  await s.prepare?.(ctx);
  const tx = await s.transaction(ctx);
  const before = await readMarket<bigint>("liquidity");
  // Send at the start of a slot, as an attacker racing the next block would.
  await net.nextBlock();
  const raw = await signScenarioTx(ctx.devnet, tx);
  const hash = keccak256(raw);
  const sentAt = now();
  await publicClient.sendRawTransaction({ serializedTransaction: raw });
  const receipt = await publicClient.waitForTransactionReceipt({
    hash,
    pollingInterval: 25,
    timeout: 60_000,
  });
  const decided = await waitFor(() => w.decisions.get(hash), 2 * w.blockTimeMs);
  let outcome: Resolved | undefined;
  if (decided?.verdict.decision === "pause")
    outcome = await waitFor(() => w.resolved.get(hash), 4 * w.blockTimeMs + 2000);
  const after = await readMarket<bigint>("liquidity");
  const lost = before > after ? before - after : 0n;
  const paused = outcome?.outcome === "paused";
  const result: ScenarioResult = {
    name: s.name,
    kind: s.kind,
    description: s.description,
    txHash: hash,
    detected: decided !== undefined && decided.verdict.decision !== "ignore",
    decision: decided?.verdict.decision ?? "unseen",
    score: decided ? Number(decided.verdict.score.toFixed(4)) : 0,
    reasons: decided?.verdict.reasons.map((r) => r.rule) ?? [],
    paused,
    prevented: s.kind === "attack" && lost === 0n,
    valueLostWei: lost.toString(),
    minedBlock: receipt.blockNumber.toString(),
    txStatus: receipt.status,
    outcome: outcome?.outcome,
    timings: {
      seenMs: 0,
      simulatedMs: round(decided?.timings.simulatedMs),
      decidedMs: round(decided?.timings.scoredMs),
      bundleSentMs: round(decided?.timings.bundleSentMs),
      includedBlock: outcome?.includedBlock?.toString() ?? null,
      sentToSeenMs: decided ? round(decided.timings.seenAt - sentAt) : null,
    },
  };
  w.progress(`  ${describe(result)}`);
  return result;
}

const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 10) / 10);

function describe(r: ScenarioResult): string {
  const t = r.timings;
  const decision = `${r.decision} (score ${r.score.toFixed(2)}${r.reasons.length ? `: ${r.reasons.slice(0, 3).join(", ")}` : ""})`;
  if (r.kind === "attack") {
    return r.prevented
      ? `PREVENTED: ${decision}; pause landed in block ${t.includedBlock} ahead of the attack; bundle sent ${t.bundleSentMs} ms after first sight`
      : `NOT PREVENTED: ${decision}; ${r.valueLostWei} USD units lost (tx ${r.txStatus} in block ${r.minedBlock})`;
  }
  return r.paused ? `FALSE PAUSE: ${decision}` : `ok, not paused: ${decision}`;
}

async function liftThroughSafe(ctx: DrillContext, target: Address): Promise<void> {
  const d = ctx.deployment;
  const data = encodeFunctionData({ abi: Guardian.abi, functionName: "liftPause", args: [target] });
  const tx = safeCall(d.guardian.address, data, await safeNonce(ctx.devnet, d.safe.address));
  const signatures = await Promise.all(
    [devnetAccount("safeOwner1"), devnetAccount("safeOwner2")].map((o) =>
      signSafeTx(o, d.safe.address, d.chainId, tx),
    ),
  );
  await execSafeTx(ctx.devnet, devnetAccount("deployer"), d.safe.address, tx, signatures);
}

/** Readable summary of a drill. */
export function formatDrillReport(r: DrillReport): string {
  const lines = ["", "Vigil fire drill", ""];
  const width = Math.max(...r.scenarios.map((s) => s.name.length));
  lines.push(`  ${"scenario".padEnd(width)}  kind    decision  score  result          seen→sent  block`);
  for (const s of r.scenarios) {
    const result =
      s.kind === "attack"
        ? s.prevented
          ? "prevented"
          : "NOT PREVENTED"
        : s.paused
          ? "FALSE PAUSE"
          : "left alone";
    lines.push(
      `  ${s.name.padEnd(width)}  ${s.kind.padEnd(6)}  ${s.decision.padEnd(8)}  ${s.score.toFixed(2).padStart(5)}  ${result.padEnd(14)}  ${(s.timings.bundleSentMs === null ? "-" : `${s.timings.bundleSentMs} ms`).padStart(9)}  ${s.minedBlock}`,
    );
  }
  const m = r.summary;
  lines.push(
    "",
    `attacks prevented: ${m.prevented}/${m.attacks}    false pauses: ${m.falsePauses}/${m.benign} benign`,
    `incident record: ${r.recordPath}`,
    "",
  );
  return lines.join("\n");
}
