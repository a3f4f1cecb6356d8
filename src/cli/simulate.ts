import type { Command } from "commander";
import {
  type Hex,
  isHex,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  type TransactionSerialized,
} from "viem";
import { type Explained, explainTransaction } from "../guardian.ts";
import { loadConfig } from "../internal/config.ts";
import { InputError } from "../internal/errors.ts";
import { createLogger } from "../internal/logger.ts";
import { createRpc } from "../internal/rpc.ts";
import { parsePendingTx } from "../source/parse.ts";
import type { PendingTx } from "../source/types.ts";

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("score one transaction (hash or signed raw tx) and explain why")
    .argument("<tx>", "transaction hash (pending or mined) or signed raw transaction (0x…)")
    .requiredOption("--config <file>", "configuration JSON")
    .option("--json", "print one JSON document")
    .action(async (input: string, opts: { config: string; json?: boolean }) => {
      const config = loadConfig(opts.config);
      const logger = createLogger({ level: "warn" });
      const rpc = createRpc(config.chain.rpcUrl);
      const { tx, minedIn } = await resolveTx(rpc, input);
      const result = await explainTransaction({ config, tx, logger, ...(minedIn ? { minedIn } : {}) });
      process.stdout.write(
        opts.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : formatExplained(result),
      );
      process.exitCode = result.verdict.decision === "ignore" ? 0 : 3;
    });
}

type RpcTx = Record<string, unknown> & { blockNumber?: Hex | null };
type RpcBlock = { number: Hex; hash: Hex; timestamp: Hex; baseFeePerGas?: Hex };

async function resolveTx(rpc: ReturnType<typeof createRpc>, input: string) {
  const seenAt = performance.timeOrigin + performance.now();
  if (/^0x[0-9a-fA-F]{64}$/.test(input)) {
    const raw = await rpc.call<RpcTx | null>("eth_getTransactionByHash", [input]);
    if (!raw)
      throw new InputError(`transaction ${input} is unknown to ${rpc.url}`, {
        hint: "check the hash and the chain in the config",
      });
    const parsed = parsePendingTx(raw, seenAt);
    if (!parsed.ok)
      throw new InputError(`the node returned a transaction Vigil cannot read: ${parsed.reason}`);
    let minedIn: { number: bigint; hash: Hex; timestamp: bigint; baseFeePerGas: bigint | null } | undefined;
    if (raw.blockNumber) {
      const b = await rpc.call<RpcBlock>("eth_getBlockByNumber", [raw.blockNumber, false]);
      minedIn = {
        number: BigInt(b.number),
        hash: b.hash,
        timestamp: BigInt(b.timestamp),
        baseFeePerGas: b.baseFeePerGas ? BigInt(b.baseFeePerGas) : null,
      };
    }
    return { tx: parsed.value, minedIn };
  }
  if (!isHex(input) || input.length < 10) {
    throw new InputError("expected a 32-byte transaction hash or a signed raw transaction (0x…)");
  }
  let p: ReturnType<typeof parseTransaction>;
  let from: Hex;
  try {
    p = parseTransaction(input as TransactionSerialized);
    from = await recoverTransactionAddress({ serializedTransaction: input as TransactionSerialized });
  } catch (error) {
    throw new InputError("the argument is not a valid signed transaction", { cause: error });
  }
  const tx: PendingTx = {
    hash: keccak256(input as Hex),
    from: from as PendingTx["from"],
    to: p.to ?? null,
    nonce: p.nonce ?? 0,
    input: p.data ?? "0x",
    value: p.value ?? 0n,
    gas: p.gas ?? 30_000_000n,
    gasPrice: p.gasPrice,
    maxFeePerGas: p.maxFeePerGas,
    maxPriorityFeePerGas: p.maxPriorityFeePerGas,
    type: p.type === "eip1559" ? "0x2" : p.type === "eip2930" ? "0x1" : "0x0",
    chainId: p.chainId,
    seenAt,
  };
  return { tx, minedIn: undefined };
}

function toJson(r: Explained) {
  return JSON.parse(
    JSON.stringify(
      {
        tx: r.tx.hash,
        stateBlock: r.stateBlock,
        decision: r.verdict.decision,
        score: r.verdict.score,
        version: r.verdict.version,
        reasons: r.verdict.reasons,
        features: r.features.vector,
        targets: r.targets,
        stateChanges: protectedChanges(r),
        simulation: {
          success: r.simulation.success,
          error: r.simulation.error,
          gasUsed: r.simulation.gasUsed,
          durationMs: r.simulation.durationMs,
        },
      },
      (_k, v) => (typeof v === "bigint" ? v.toString() : v),
    ),
  );
}

/** Balance and storage changes of the protected contracts, from the simulation's state diff. */
function protectedChanges(r: Explained) {
  const { pre, post } = r.simulation.stateDiff;
  return r.simulation.protectedAddresses.flatMap((address) => {
    const before = pre[address];
    const after = post[address];
    if (!before && !after) return [];
    const slots = new Set([...Object.keys(before?.storage ?? {}), ...Object.keys(after?.storage ?? {})]);
    const balance =
      after?.balance !== undefined && after.balance !== before?.balance
        ? { before: before?.balance ?? 0n, after: after.balance }
        : undefined;
    return [{ address, slotsChanged: slots.size, ...(balance ? { balance } : {}) }];
  });
}

export function formatExplained(r: Explained): string {
  const lines = [
    `transaction  ${r.tx.hash}`,
    `ran on       state of block ${r.stateBlock} (${r.simulation.success ? "succeeds" : `reverts: ${r.simulation.error}`}, ${r.simulation.gasUsed} gas, ${r.simulation.durationMs.toFixed(1)} ms)`,
    `decision     ${r.verdict.decision.toUpperCase()}  score ${r.verdict.score.toFixed(3)}  (${r.verdict.version})`,
    `targets      ${r.targets.join(", ")}`,
    ...protectedChanges(r).map(
      (c) =>
        `changes      ${c.address}: ${c.slotsChanged} storage slot(s)${c.balance ? `, native balance ${c.balance.before} -> ${c.balance.after}` : ""}`,
    ),
    "",
    r.verdict.reasons.length > 0 ? "why:" : "why: no rule fired",
  ];
  for (const reason of r.verdict.reasons) {
    lines.push(`  +${reason.contribution.toFixed(3)}  ${reason.rule}: ${reason.detail}`);
    for (const e of reason.evidence.slice(0, 2)) lines.push(`           ${e.detail}`);
  }
  lines.push("", "features:");
  for (const [k, v] of Object.entries(r.features.vector))
    lines.push(`  ${k.padEnd(26)} ${Number(v.toFixed(4))}`);
  return `${lines.join("\n")}\n`;
}
