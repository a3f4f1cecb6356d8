import { type Account, type Address, createWalletClient, type Hex, http, parseGwei } from "viem";
import { VulnerableSpotPriceLendingMarket } from "../src/contracts/generated/artifacts.ts";
import type { Devnet } from "../src/devnet/chain.ts";

/** Signs a transaction locally (not sent), with explicit fees so the test controls what it pays. */
export async function signTx(
  devnet: Devnet,
  account: Account,
  tx: { to: Hex; data?: Hex; value?: bigint; nonce?: number; tipGwei?: number; gas?: bigint },
): Promise<Hex> {
  const wallet = createWalletClient({ account, chain: devnet.chain, transport: http(devnet.rpcUrl) });
  const nonce =
    tx.nonce ??
    (await devnet.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" }));
  const request = await wallet.prepareTransactionRequest({
    account,
    chain: devnet.chain,
    to: tx.to,
    data: tx.data ?? "0x",
    value: tx.value ?? 0n,
    nonce,
    gas: tx.gas ?? 300_000n,
    maxPriorityFeePerGas: parseGwei(String(tx.tipGwei ?? 1)),
    maxFeePerGas: parseGwei("100"),
    type: "eip1559",
  });
  return wallet.signTransaction(request as never);
}

/** Whether the devnet's lending market is paused now. */
export function marketPaused(devnet: Devnet, market: Address): Promise<boolean> {
  return devnet.publicClient.readContract({
    address: market,
    abi: VulnerableSpotPriceLendingMarket.abi,
    functionName: "paused",
  });
}
