import type { Address, Hex } from "viem";

/** A pending transaction as the source hands it to the pipeline. */
export type PendingTx = {
  hash: Hex;
  from: Address;
  /** null for a contract creation. */
  to: Address | null;
  nonce: number;
  input: Hex;
  value: bigint;
  gas: bigint;
  /** Legacy / EIP-2930 transactions. */
  gasPrice: bigint | undefined;
  /** EIP-1559 transactions. */
  maxFeePerGas: bigint | undefined;
  maxPriorityFeePerGas: bigint | undefined;
  /** "0x0" legacy, "0x1" access list, "0x2" EIP-1559, ... as the node reports it. */
  type: Hex;
  chainId: number | undefined;
  /**
   * The signature and access list as the node reported them, for rebuilding the signed bytes
   * without asking the node again (`rawTransaction`). Absent when the node sent none.
   */
  signature?: { r: Hex; s: Hex; v: bigint; yParity: number | undefined };
  accessList?: { address: Address; storageKeys: Hex[] }[];
  /** When the source first saw it: `performance.timeOrigin + performance.now()` in ms. */
  seenAt: number;
};

/** A new block header. */
export type Head = {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
  baseFeePerGas: bigint | null;
  /** When the source saw it (same clock as PendingTx.seenAt). */
  seenAt: number;
};
