import { type Address, encodeFunctionData, type Hex, type LocalAccount, parseGwei } from "viem";
import { Guardian } from "../contracts/generated/artifacts.ts";
import type { PendingTx } from "../source/types.ts";

/** Calldata of `Guardian.pause(targets, incidentId)`. */
export function pauseCalldata(targets: readonly Address[], incidentId: Hex): Hex {
  return encodeFunctionData({ abi: Guardian.abi, functionName: "pause", args: [targets, incidentId] });
}

/** What the attack pays per gas above the base fee (its effective tip). */
export function effectiveTip(tx: PendingTx, baseFee: bigint): bigint {
  if (tx.maxFeePerGas !== undefined) {
    const room = tx.maxFeePerGas - baseFee;
    const tip = tx.maxPriorityFeePerGas ?? 0n;
    return room < tip ? (room > 0n ? room : 0n) : tip;
  }
  const price = tx.gasPrice ?? 0n;
  return price > baseFee ? price - baseFee : 0n;
}

export type FeePolicy = { tipMarginGwei: number; maxPriorityFeeGwei: number };

/**
 * Fees for the pause: builders order by what a transaction pays, so the pause outbids the
 * attack's effective tip by a margin, up to a cap; the max fee leaves room for two base-fee
 * rises (the bundle may land a few blocks later).
 */
export function pauseFees(attack: PendingTx, baseFee: bigint, policy: FeePolicy) {
  const cap = parseGwei(String(policy.maxPriorityFeeGwei));
  const wanted = effectiveTip(attack, baseFee) + parseGwei(String(policy.tipMarginGwei));
  const maxPriorityFeePerGas = wanted < cap ? wanted : cap;
  return { maxPriorityFeePerGas, maxFeePerGas: baseFee * 2n + maxPriorityFeePerGas };
}

/** Signs the pause transaction with the sentinel key (EIP-1559). */
export async function signPause(
  sentinel: LocalAccount,
  p: {
    chainId: number;
    guardian: Address;
    data: Hex;
    nonce: number;
    gas: bigint;
    maxFeePerGas: bigint;
    maxPriorityFeePerGas: bigint;
  },
): Promise<Hex> {
  return sentinel.signTransaction({
    type: "eip1559",
    chainId: p.chainId,
    to: p.guardian,
    data: p.data,
    nonce: p.nonce,
    gas: p.gas,
    maxFeePerGas: p.maxFeePerGas,
    maxPriorityFeePerGas: p.maxPriorityFeePerGas,
    value: 0n,
  });
}
