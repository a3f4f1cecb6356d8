import {
  type Address,
  BaseError,
  decodeErrorResult,
  getAddress,
  type Hex,
  isAddressEqual,
  type PrivateKeyAccount,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { Guardian, Safe } from "../contracts/generated/artifacts.ts";
import type { Devnet } from "../devnet/chain.ts";
import { execSafeTx, type SafeTx, safeCall, safeTxHash, signSafeTx } from "../devnet/safe.ts";
import { InputError, RpcError } from "../internal/errors.ts";
import {
  batchTransaction,
  encodeAction,
  explainAction,
  type GovernanceAction,
  type GuardianCall,
} from "./actions.ts";
import { type BatchFile, buildBatchFile } from "./batch.ts";

/**
 * A governance action as a Safe transaction: read the Safe (nonce, owners, threshold) and the
 * Guardian, check that the Safe may make the call and that the Guardian would accept it (an
 * eth_call from the Safe), hash the SafeTx owners sign, write the Transaction Builder batch;
 * optionally sign with owner keys and execute it.
 */

export type SafeInfo = { address: Address; nonce: bigint; threshold: number; owners: Address[] };

export type PreparedGovernanceTx = {
  action: GovernanceAction;
  explanation: string;
  chainId: number;
  guardian: Address;
  call: GuardianCall;
  safe: SafeInfo;
  safeTx: SafeTx;
  safeTxHash: Hex;
  batch: BatchFile;
  /** Facts worth telling the operator that do not stop the transaction. */
  notes: string[];
};

export type PrepareOptions = {
  client: Devnet;
  guardian: Address;
  safe: Address;
  action: GovernanceAction;
  /** Refuse to continue if the node reports another chain. */
  expectedChainId?: number;
  /** Use this Safe nonce instead of the current one (to queue behind pending transactions). */
  nonce?: bigint;
  /** Build the transaction without checking the Guardian's state or simulating the call. */
  skipChecks?: boolean;
  createdAt?: number;
};

export async function prepareGovernanceTx(options: PrepareOptions): Promise<PreparedGovernanceTx> {
  const { client, action } = options;
  const guardian = getAddress(options.guardian);
  const safeAddress = getAddress(options.safe);
  const chainId = Number(client.chain.id);
  if (options.expectedChainId !== undefined && options.expectedChainId !== chainId) {
    throw new InputError(
      `the node at --rpc is on chain ${chainId}, not ${options.expectedChainId} (--chain-id)`,
      {
        hint: "point --rpc at a node of the chain the Safe and the Guardian live on",
      },
    );
  }
  const notes: string[] = [];
  const safe = await readSafe(client, safeAddress, options.nonce);
  if (options.nonce !== undefined) notes.push(`using nonce ${options.nonce} as given (--nonce)`);

  const call = encodeAction(action);
  if (!options.skipChecks) await checkGovernanceCall(client, guardian, safe.address, action, call, notes);

  const safeTx = safeCall(guardian, call.data, safe.nonce);
  const hash = safeTxHash(safe.address, chainId, safeTx);
  const explanation = explainAction(action);
  const batch = buildBatchFile({
    chainId,
    safe: safe.address,
    name: `Vigil Guardian: ${action.kind}`,
    description: `${explanation}. Guardian ${guardian} on chain ${chainId}; SafeTx hash at Safe nonce ${safe.nonce}: ${hash}`,
    transactions: [batchTransaction(guardian, call)],
    ...(options.createdAt === undefined ? {} : { createdAt: options.createdAt }),
  });
  return { action, explanation, chainId, guardian, call, safe, safeTx, safeTxHash: hash, batch, notes };
}

/** Nonce, owners and threshold of a Safe; an InputError if the address is not a Safe. */
export async function readSafe(client: Devnet, safe: Address, nonce?: bigint): Promise<SafeInfo> {
  const read = <T>(functionName: "nonce" | "getThreshold" | "getOwners") =>
    client.publicClient.readContract({ address: safe, abi: Safe.abi, functionName }) as Promise<T>;
  try {
    const [current, threshold, owners] = await Promise.all([
      read<bigint>("nonce"),
      read<bigint>("getThreshold"),
      read<readonly Address[]>("getOwners"),
    ]);
    return { address: safe, nonce: nonce ?? current, threshold: Number(threshold), owners: [...owners] };
  } catch (error) {
    throw notAContract(error, `${safe} (--safe) does not answer as a Safe (nonce, getThreshold, getOwners)`, {
      hint: "pass the address of the Safe that governs the Guardian (Safe 1.3 or later)",
    });
  }
}

async function checkGovernanceCall(
  client: Devnet,
  guardian: Address,
  safe: Address,
  action: GovernanceAction,
  call: GuardianCall,
  notes: string[],
): Promise<void> {
  const code = await client.publicClient.getCode({ address: guardian });
  if (!code || code === "0x") {
    throw new InputError(`there is no contract at ${guardian} (--guardian) on chain ${client.chain.id}`, {
      hint: "check the Guardian address and that --rpc points at the right chain",
    });
  }
  const readG = <T>(functionName: "governance" | "pendingGovernance") =>
    client.publicClient.readContract({ address: guardian, abi: Guardian.abi, functionName }) as Promise<T>;
  let governance: Address;
  let pending: Address;
  try {
    [governance, pending] = await Promise.all([
      readG<Address>("governance"),
      readG<Address>("pendingGovernance"),
    ]);
  } catch (error) {
    throw notAContract(
      error,
      `${guardian} (--guardian) does not answer governance(): it is not a Vigil Guardian`,
      {
        hint: "check the Guardian address",
      },
    );
  }
  if (action.kind === "accept-governance") {
    if (!isAddressEqual(pending, safe)) {
      throw new InputError(
        pending === "0x0000000000000000000000000000000000000000"
          ? "no governance transfer is pending: there is nothing to accept"
          : `the pending governance is ${pending}, not the Safe ${safe}: only the pending governance may accept`,
        {
          hint:
            "run transfer-governance from the current governance first, then accept-governance with --safe set to the new Safe" +
            " (an EOA as new governance calls acceptGovernance() itself)",
        },
      );
    }
  } else if (!isAddressEqual(governance, safe)) {
    throw new InputError(`the Safe ${safe} is not the Guardian's governance (${governance} is)`, {
      hint: "the Guardian would revert with Unauthorized(): pass --safe with the governance Safe",
    });
  }
  if (action.kind === "transfer-governance" && pending !== "0x0000000000000000000000000000000000000000") {
    notes.push(`replaces the pending governance transfer to ${pending}`);
  }

  try {
    await client.publicClient.call({ account: safe, to: guardian, data: call.data });
  } catch (error) {
    const decoded = decodeRevert(error);
    if (decoded) {
      throw new InputError(
        `the Guardian would refuse this: ${explainGuardianError(decoded.errorName, decoded.args)}`,
        {
          details: [
            `${call.description} from ${safe} reverts with ${decoded.errorName}(${(decoded.args ?? []).join(", ")})`,
          ],
          hint: "nothing was signed or sent; fix the arguments or the Guardian's state first (vigil governance status)",
        },
      );
    }
    throw new RpcError(`simulating ${call.description} from the Safe failed`, {
      hint: "check --rpc; use --skip-checks to build the transaction without simulating it",
      cause: error,
    });
  }
}

/** A Guardian custom error from a failed eth_call, if the node returned its data. */
function decodeRevert(error: unknown): { errorName: string; args?: readonly unknown[] } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const withData = error.walk((e) => typeof (e as { data?: unknown }).data === "string") as {
    data?: Hex;
  } | null;
  const data = withData?.data;
  if (!data || data.length < 10) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: Guardian.abi, data });
    return { errorName: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] };
  } catch {
    return undefined;
  }
}

/** What a Guardian revert means for governance, in words. */
export function explainGuardianError(name: string, args: readonly unknown[] = []): string {
  const a = String(args[0] ?? "");
  switch (name) {
    case "Unauthorized":
      return "the caller is not allowed to do this (not the governance, or not the pending governance)";
    case "ZeroAddress":
      return "the zero address is not allowed here";
    case "AlreadySentinel":
      return `${a} is already a sentinel (use set-budget to change its budget)`;
    case "NotSentinel":
      return `${a} is not a sentinel`;
    case "InvalidBudget":
      return "the budget must be greater than zero";
    case "InvalidDuration":
      return "the duration must be from 60 s to 30 days";
    case "InvalidSelector":
      return "the selectors must be nonzero and different";
    case "NotAContract":
      return `${a} has no code: a target must be a deployed contract`;
    case "InvalidTarget":
      return "the Guardian cannot be its own target";
    case "AlreadyTarget":
      return `${a} is already a target (remove it first to change its selectors)`;
    case "NotTarget":
      return `${a} is not a registered target`;
    case "TargetStillPaused":
      return `${a} is still paused by the Guardian: lift the pause first (lift-pause ${a})`;
    case "NotPaused":
      return `the Guardian has no pause recorded for ${a}`;
    case "TargetCallFailed":
      return `the call to ${a}'s unpause selector reverted: does the target let the Guardian unpause it?`;
    default:
      return `${name}(${args.map(String).join(", ")})`;
  }
}

function notAContract(error: unknown, message: string, options: { hint: string }): Error {
  const text = error instanceof Error ? error.message : String(error);
  if (/fetch failed|ECONNREFUSED|HTTP request failed|timed out/i.test(text)) {
    return new RpcError("the node at --rpc did not answer", {
      hint: "check the --rpc URL and that the node is running",
      cause: error,
    });
  }
  return new InputError(message, { hint: options.hint, cause: error });
}

// ---------------------------------------------------------------------------------------------
// Owner keys and execution
// ---------------------------------------------------------------------------------------------

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Owner keys from an environment variable: comma-separated 32-byte hex keys. Messages name the
 * variable and the key's position, never a key.
 */
export function ownerKeysFromEnv(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PrivateKeyAccount[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") {
    throw new InputError(`Environment variable ${name} is not set (--owner-keys-env)`, {
      hint: `set ${name} to the Safe owners' private keys, comma-separated; they are never printed`,
    });
  }
  const accounts: PrivateKeyAccount[] = [];
  raw
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "")
    .forEach((k, i) => {
      const hex = k.replace(/^0x/i, "");
      if (!/^[0-9a-fA-F]{64}$/.test(hex) || BigInt(`0x${hex}`) === 0n || BigInt(`0x${hex}`) >= SECP256K1_N) {
        throw new InputError(
          `key #${i + 1} in ${name} is not a private key (32 bytes of hex); it is not shown`,
        );
      }
      const account = privateKeyToAccount(`0x${hex.toLowerCase()}`);
      if (!accounts.some((a) => a.address === account.address)) accounts.push(account);
    });
  return accounts;
}

export type Executed = { txHash: Hex; blockNumber: bigint; signers: Address[]; submitter: Address };

/**
 * Signs the prepared SafeTx with owner keys (as many as the threshold, in the order given) and
 * submits execTransaction from the first of them, which pays the gas.
 */
export async function executeGovernanceTx(
  client: Devnet,
  prepared: PreparedGovernanceTx,
  owners: readonly PrivateKeyAccount[],
): Promise<Executed> {
  const { safe } = prepared;
  for (const [i, account] of owners.entries()) {
    if (!safe.owners.some((o) => isAddressEqual(o, account.address))) {
      throw new InputError(`key #${i + 1} (${account.address}) is not an owner of the Safe ${safe.address}`, {
        details: [`owners: ${safe.owners.join(", ")}`],
      });
    }
  }
  if (owners.length < safe.threshold) {
    throw new InputError(
      `the Safe needs ${safe.threshold} owner signatures, ${owners.length} owner key${owners.length === 1 ? " was" : "s were"} given`,
      {
        hint: "add owner keys, or share the SafeTx hash / batch file for the other owners to sign in the Safe app",
      },
    );
  }
  const current = await client.publicClient.readContract({
    address: safe.address,
    abi: Safe.abi,
    functionName: "nonce",
  });
  if (current !== prepared.safeTx.nonce) {
    throw new InputError(
      `the Safe's nonce is ${current}, the transaction was built for nonce ${prepared.safeTx.nonce}`,
      {
        hint: "the Safe can only execute its current nonce: execute the earlier transactions first, or rebuild",
      },
    );
  }
  const signers = owners.slice(0, safe.threshold);
  const signatures = await Promise.all(
    signers.map((s) => signSafeTx(s, safe.address, prepared.chainId, prepared.safeTx)),
  );
  const submitter = signers[0];
  if (!submitter) throw new InputError("no owner key to submit the transaction with");
  const receipt = await execSafeTx(client, submitter, safe.address, prepared.safeTx, signatures);
  return {
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    signers: signers.map((s) => s.address),
    submitter: submitter.address,
  };
}
