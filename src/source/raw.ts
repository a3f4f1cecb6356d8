import { type Hex, keccak256, serializeTransaction } from "viem";
import type { PendingTx } from "./types.ts";

/**
 * The signed bytes of a pending transaction, rebuilt from the fields the node sent (legacy,
 * access-list and fee-market types), so that an incident record can hold them without another
 * round trip to a node that may be busy. Checked against the transaction's hash: undefined when
 * the fields do not rebuild it exactly (another type, or a node that reports them differently),
 * and the caller asks the node instead.
 */
export function rebuildRawTransaction(tx: PendingTx): Hex | undefined {
  const sig = tx.signature;
  if (!sig) return undefined;
  const base = {
    nonce: tx.nonce,
    gas: tx.gas,
    value: tx.value,
    data: tx.input,
    ...(tx.to ? { to: tx.to } : {}),
  };
  const yParity = sig.yParity ?? (sig.v <= 1n ? Number(sig.v) : undefined);
  let raw: Hex;
  try {
    if (tx.type === "0x0") {
      // Replay-protected (EIP-155) signatures carry the chain id in v; older ones have none.
      raw = serializeTransaction(
        { ...base, type: "legacy", gasPrice: tx.gasPrice, ...(sig.v >= 35n ? { chainId: tx.chainId } : {}) },
        { r: sig.r, s: sig.s, v: sig.v },
      );
    } else if (
      (tx.type === "0x1" || tx.type === "0x2") &&
      yParity !== undefined &&
      tx.chainId !== undefined
    ) {
      const typed = { ...base, chainId: tx.chainId, accessList: tx.accessList ?? [] };
      raw =
        tx.type === "0x1"
          ? serializeTransaction(
              { ...typed, type: "eip2930", gasPrice: tx.gasPrice },
              { r: sig.r, s: sig.s, yParity },
            )
          : serializeTransaction(
              {
                ...typed,
                type: "eip1559",
                maxFeePerGas: tx.maxFeePerGas,
                maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
              },
              { r: sig.r, s: sig.s, yParity },
            );
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return keccak256(raw) === tx.hash ? raw : undefined;
}
