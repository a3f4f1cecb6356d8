import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Address } from "viem";
import { connectDevnet, withExternalBlocks } from "../devnet/chain.ts";
import { ACTIONS, type ActionKind, parseAction, parseAddress } from "../governance/actions.ts";
import {
  type Executed,
  executeGovernanceTx,
  ownerKeysFromEnv,
  type PreparedGovernanceTx,
  prepareGovernanceTx,
} from "../governance/safe-tx.ts";
import { formatGuardianStatus, readGuardianStatus, statusToJson } from "../governance/status.ts";
import { loadConfig, redactUrl } from "../internal/config.ts";
import { InputError, RpcError } from "../internal/errors.ts";
import { parseIntOption } from "./options.ts";

/**
 * `vigil governance <action>`: one Safe transaction per Guardian setting, as a Transaction
 * Builder batch file and the SafeTx hash owners sign; `--execute` signs with owner keys and
 * submits it (devnet, tests, or a Safe whose owners are at hand). `vigil governance status`
 * reads the Guardian.
 */

type ConnectionOptions = { guardian?: string; rpc?: string; chainId?: number; config?: string };

export type ActionOptions = ConnectionOptions & {
  safe: string;
  out?: string;
  nonce?: bigint;
  execute?: boolean;
  ownerKeysEnv?: string;
  mine?: boolean;
  skipChecks?: boolean;
  json?: boolean;
  pauseSelector?: string;
  unpauseSelector?: string;
};

export type ActionResult = { prepared: PreparedGovernanceTx; executed?: Executed; batchPath?: string };

/** Guardian, RPC and expected chain id from the flags, else from `--config`. */
function connection(opts: ConnectionOptions): { guardian: Address; rpc: string; chainId?: number } {
  const config = opts.config ? loadConfig(opts.config) : undefined;
  const guardianText = opts.guardian ?? config?.guardian;
  const rpc = opts.rpc ?? config?.chain.rpcUrl;
  if (!guardianText) throw new InputError("--guardian is required (or --config with a guardian)");
  if (!rpc) throw new InputError("--rpc is required (or --config with chain.rpcUrl)");
  const chainId = opts.chainId ?? config?.chain.chainId;
  return {
    guardian: parseAddress(guardianText, "--guardian"),
    rpc,
    ...(chainId === undefined ? {} : { chainId }),
  };
}

/** Connects to the node; the error shows only the URL's scheme and host (paths often hold API keys). */
async function connect(rpc: string) {
  try {
    return await connectDevnet(rpc);
  } catch (error) {
    throw new RpcError(`no JSON-RPC node answered at ${redactUrl(rpc)} (--rpc)`, {
      hint: "check the URL and that the node is running",
      cause: error,
    });
  }
}

/** Builds (and with `execute`, executes) one governance action. Throws VigilErrors. */
export async function runGovernanceAction(
  kind: ActionKind,
  args: readonly string[],
  opts: ActionOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ActionResult> {
  const action = parseAction(kind, args, {
    ...(opts.pauseSelector === undefined ? {} : { pauseSelector: opts.pauseSelector }),
    ...(opts.unpauseSelector === undefined ? {} : { unpauseSelector: opts.unpauseSelector }),
  });
  const { guardian, rpc, chainId } = connection(opts);
  const safe = parseAddress(opts.safe, "--safe");
  if (opts.execute && !opts.ownerKeysEnv) {
    throw new InputError(
      "--execute needs --owner-keys-env <VAR>: the variable holding owner keys, comma-separated",
    );
  }
  if (!opts.execute && (opts.ownerKeysEnv || opts.mine)) {
    throw new InputError("--owner-keys-env and --mine only apply with --execute");
  }
  // Read the keys before touching the chain: a typo in the variable fails fast.
  const owners = opts.execute && opts.ownerKeysEnv ? ownerKeysFromEnv(opts.ownerKeysEnv, env) : [];
  const client = await connect(rpc);
  const prepared = await prepareGovernanceTx({
    client,
    guardian,
    safe,
    action,
    ...(chainId === undefined ? {} : { expectedChainId: chainId }),
    ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }),
    ...(opts.skipChecks ? { skipChecks: true } : {}),
  });
  const result: ActionResult = { prepared };
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(prepared.batch, null, 2)}\n`);
    result.batchPath = opts.out;
  }
  if (opts.execute) {
    result.executed = await executeGovernanceTx(
      opts.mine ? client : withExternalBlocks(client),
      prepared,
      owners,
    );
  }
  return result;
}

export function actionResultJson(r: ActionResult): Record<string, unknown> {
  const p = r.prepared;
  return {
    action: p.action.kind,
    explanation: p.explanation,
    chainId: p.chainId,
    guardian: p.guardian,
    call: p.call.description,
    to: p.safeTx.to,
    value: "0",
    data: p.safeTx.data,
    safe: {
      address: p.safe.address,
      nonce: p.safe.nonce.toString(),
      threshold: p.safe.threshold,
      owners: p.safe.owners,
    },
    safeTxHash: p.safeTxHash,
    notes: p.notes,
    batchFile: r.batchPath ?? null,
    batch: p.batch,
    executed: r.executed
      ? {
          txHash: r.executed.txHash,
          blockNumber: r.executed.blockNumber.toString(),
          signers: r.executed.signers,
          submitter: r.executed.submitter,
        }
      : null,
  };
}

export function formatActionResult(r: ActionResult): string {
  const p = r.prepared;
  const rows: [string, string][] = [
    ["call", p.call.description],
    ["to", `${p.guardian} (Guardian), value 0, operation CALL`],
    ["data", p.call.data],
    [
      "safe",
      `${p.safe.address} (${p.safe.threshold} of ${p.safe.owners.length} owners), nonce ${p.safe.nonce}`,
    ],
    ["chain", String(p.chainId)],
    ["SafeTx hash", p.safeTxHash],
  ];
  if (r.batchPath) {
    rows.push(["batch", `${r.batchPath} (Safe{Wallet} > Apps > Transaction Builder: drag and drop it)`]);
  }
  if (r.executed) {
    rows.push([
      "executed",
      `tx ${r.executed.txHash} in block ${r.executed.blockNumber} (signed by ${r.executed.signers.join(", ")})`,
    ]);
  }
  for (const note of p.notes) rows.push(["note", note]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [p.explanation, "", ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), ""];
  if (r.executed) lines.push("The Safe executed it; check with `vigil governance status`.");
  else
    lines.push(
      "Owners sign the SafeTx hash (EIP-712); the Safe app shows the same hash for this nonce.",
      ...(r.batchPath ? [] : ["Pass --out batch.json to write the Transaction Builder file."]),
    );
  return lines.join("\n");
}

function parseNonce(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--nonce must be a whole number (got "${value}")`);
  return BigInt(value);
}

const chainIdOption = () =>
  new Option("--chain-id <id>", "refuse to run unless the node is on this chain").argParser(
    parseIntOption("--chain-id", 1, Number.MAX_SAFE_INTEGER),
  );

export function registerGovernance(program: Command): void {
  const governance = program
    .command("governance")
    .description(
      "build, hash and (on a devnet) execute the Safe transactions that change the Guardian; read its status",
    );

  for (const [kind, spec] of Object.entries(ACTIONS) as [ActionKind, (typeof ACTIONS)[ActionKind]][]) {
    const cmd = governance
      .command(`${kind}${spec.args.map((a) => ` <${a}>`).join("")}`)
      .description(spec.summary)
      .option("--guardian <address>", "the Guardian contract")
      .requiredOption(
        "--safe <address>",
        "the Safe that sends the call (the governance; the pending one for accept)",
      )
      .option("--rpc <url>", "JSON-RPC endpoint of the chain (reads the Safe nonce, checks the call)")
      .option("--config <file>", "take --guardian, --rpc and --chain-id from a Vigil config file")
      .addOption(chainIdOption())
      .option("--out <file>", "write the Safe Transaction Builder batch JSON here")
      .addOption(
        new Option("--nonce <n>", "build for this Safe nonce (default: the current one)").argParser(
          parseNonce,
        ),
      )
      .option("--execute", "sign with owner keys and execute now (devnet, tests)")
      .option(
        "--owner-keys-env <VAR>",
        "with --execute: variable holding owner private keys, comma-separated",
      )
      .option("--mine", "with --execute: mine a block after submitting (Anvil with no block producer)")
      .option("--skip-checks", "do not check the Guardian's state or simulate the call")
      .option("--json", "print one JSON document");
    if (kind === "add-target") {
      cmd
        .option("--pause-selector <selector>", 'selector that pauses the target: 0x12345678 or "pause()"')
        .option("--unpause-selector <selector>", 'selector that unpauses it: 0x12345678 or "unpause()"');
    }
    cmd.action(async (...params: unknown[]) => {
      const args = params.slice(0, spec.args.length) as string[];
      const opts = params[spec.args.length] as ActionOptions;
      const result = await runGovernanceAction(kind, args, opts);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(actionResultJson(result), null, 2)}\n`
          : `${formatActionResult(result)}\n`,
      );
    });
  }

  governance
    .command("status")
    .description("who may pause what, current pauses and their expiry, budgets left, governance")
    .option("--guardian <address>", "the Guardian contract")
    .option("--rpc <url>", "JSON-RPC endpoint of the chain")
    .option("--config <file>", "take --guardian, --rpc and --chain-id from a Vigil config file")
    .addOption(chainIdOption())
    .option("--json", "print one JSON document")
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const { guardian, rpc, chainId } = connection(opts);
      const client = await connect(rpc);
      if (chainId !== undefined && Number(client.chain.id) !== chainId) {
        throw new InputError(`the node at --rpc is on chain ${client.chain.id}, not ${chainId}`);
      }
      const status = await readGuardianStatus(client.publicClient, guardian);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(statusToJson(status), null, 2)}\n`
          : `${formatGuardianStatus(status)}\n`,
      );
    });
}
