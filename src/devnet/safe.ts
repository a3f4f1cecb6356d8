import {
  type Account,
  type Address,
  concat,
  encodeFunctionData,
  type Hex,
  hashTypedData,
  parseEventLogs,
  type TransactionReceipt,
  zeroAddress,
} from "viem";
import { CompatibilityFallbackHandler, Safe, SafeProxyFactory } from "../contracts/generated/artifacts.ts";
import { InputError, TransactionFailedError } from "../internal/errors.ts";
import { type Devnet, deployAndMine, execAndMine } from "./chain.ts";

/**
 * Safe 1.4.1 without Safe's services: deploy the real contracts from @safe-global/safe-contracts,
 * build SafeTx, sign it as owners (EIP-712), submit execTransaction. Same wire format as the Safe
 * web app and Transaction Service, so signatures made here are accepted by a production Safe.
 */

export type SafeInfra = { singleton: Address; proxyFactory: Address; fallbackHandler: Address };

export async function deploySafeInfra(devnet: Devnet, deployer: Account): Promise<SafeInfra> {
  const singleton = await deployAndMine(devnet, deployer, Safe, []);
  const proxyFactory = await deployAndMine(devnet, deployer, SafeProxyFactory, []);
  const fallbackHandler = await deployAndMine(devnet, deployer, CompatibilityFallbackHandler, []);
  return { singleton, proxyFactory, fallbackHandler };
}

/** Creates a Safe proxy with the given owners and threshold; returns its address. */
export async function createSafe(
  devnet: Devnet,
  deployer: Account,
  infra: SafeInfra,
  owners: readonly Address[],
  threshold: number,
  saltNonce = 0n,
): Promise<Address> {
  if (threshold < 1 || threshold > owners.length) {
    throw new InputError(`Safe threshold ${threshold} is impossible with ${owners.length} owners`);
  }
  const initializer = encodeFunctionData({
    abi: Safe.abi,
    functionName: "setup",
    args: [owners, BigInt(threshold), zeroAddress, "0x", infra.fallbackHandler, zeroAddress, 0n, zeroAddress],
  });
  const receipt = await execAndMine(devnet, deployer, {
    to: infra.proxyFactory,
    data: encodeFunctionData({
      abi: SafeProxyFactory.abi,
      functionName: "createProxyWithNonce",
      args: [infra.singleton, initializer, saltNonce],
    }),
  });
  const [created] = parseEventLogs({
    abi: SafeProxyFactory.abi,
    eventName: "ProxyCreation",
    logs: receipt.logs,
  });
  if (!created) throw new TransactionFailedError("Safe proxy factory emitted no ProxyCreation event");
  return created.args.proxy;
}

/** The fields of a Safe transaction (Safe 1.4.1 `SafeTx`). */
export type SafeTx = {
  to: Address;
  value: bigint;
  data: Hex;
  /** 0 = call, 1 = delegatecall. */
  operation: 0 | 1;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  nonce: bigint;
};

/** A plain call from the Safe, with no gas refund, at the given nonce. */
export function safeCall(to: Address, data: Hex, nonce: bigint, value = 0n): SafeTx {
  return {
    to,
    value,
    data,
    operation: 0,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: zeroAddress,
    refundReceiver: zeroAddress,
    nonce,
  };
}

const SAFE_TX_TYPES = {
  SafeTx: [
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "operation", type: "uint8" },
    { name: "safeTxGas", type: "uint256" },
    { name: "baseGas", type: "uint256" },
    { name: "gasPrice", type: "uint256" },
    { name: "gasToken", type: "address" },
    { name: "refundReceiver", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

function typedData(safe: Address, chainId: number, tx: SafeTx) {
  return {
    domain: { chainId, verifyingContract: safe },
    types: SAFE_TX_TYPES,
    primaryType: "SafeTx",
    message: tx,
  } as const;
}

/** The SafeTx hash owners sign (equal to `Safe.getTransactionHash`). */
export function safeTxHash(safe: Address, chainId: number, tx: SafeTx): Hex {
  return hashTypedData(typedData(safe, chainId, tx));
}

export type SafeSignature = { signer: Address; signature: Hex };

/** An owner's EIP-712 signature of the SafeTx. */
export async function signSafeTx(
  owner: Account,
  safe: Address,
  chainId: number,
  tx: SafeTx,
): Promise<SafeSignature> {
  if (!owner.signTypedData) throw new InputError(`account ${owner.address} cannot sign typed data`);
  const signature = await owner.signTypedData(typedData(safe, chainId, tx));
  return { signer: owner.address, signature };
}

/** Safe expects signatures concatenated in ascending order of signer address (else GS026). */
export function packSignatures(signatures: readonly SafeSignature[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  return concat(sorted.map((s) => s.signature));
}

/** Reads the Safe's current nonce. */
export async function safeNonce(devnet: Devnet, safe: Address): Promise<bigint> {
  return devnet.publicClient.readContract({ address: safe, abi: Safe.abi, functionName: "nonce" });
}

/**
 * Submits `execTransaction` with the given owner signatures (any account may submit) and mines it.
 * Throws if the Safe refuses (e.g. GS020 too few signatures) or the inner call fails.
 */
export async function execSafeTx(
  devnet: Devnet,
  submitter: Account,
  safe: Address,
  tx: SafeTx,
  signatures: readonly SafeSignature[],
): Promise<TransactionReceipt> {
  const data = encodeFunctionData({
    abi: Safe.abi,
    functionName: "execTransaction",
    args: [
      tx.to,
      tx.value,
      tx.data,
      tx.operation,
      tx.safeTxGas,
      tx.baseGas,
      tx.gasPrice,
      tx.gasToken,
      tx.refundReceiver,
      packSignatures(signatures),
    ],
  });
  // Simulate first so a refusal surfaces with the Safe's reason code (GS0xx) instead of a bare revert.
  try {
    await devnet.publicClient.call({ account: submitter, to: safe, data });
  } catch (error) {
    const reason = String(error instanceof Error ? error.message : error).match(/GS\d{3}/)?.[0];
    throw new TransactionFailedError(`the Safe refused the transaction${reason ? ` (${reason})` : ""}`, {
      details: [`safe ${safe}`, `nonce ${tx.nonce}`, `signatures ${signatures.length}`],
      hint:
        reason === "GS020"
          ? "collect more owner signatures: the Safe's threshold is not met"
          : "check the signers are owners, the nonce is current and the inner call succeeds",
      cause: error,
    });
  }
  const receipt = await execAndMine(devnet, submitter, { to: safe, data });
  const failed = parseEventLogs({ abi: Safe.abi, eventName: "ExecutionFailure", logs: receipt.logs });
  if (failed.length > 0) {
    throw new TransactionFailedError(`the Safe executed nonce ${tx.nonce} but the inner call failed`, {
      details: [`to ${tx.to}`],
    });
  }
  return receipt;
}
