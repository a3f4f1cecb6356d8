import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractConstructorArgs,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeDeployData,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
} from "viem";
import { RpcError, TransactionFailedError } from "../internal/errors.ts";

/** Clients for one local chain whose blocks are mined on demand (Anvil with `--no-mining`). */
export type Devnet = {
  readonly rpcUrl: string;
  readonly chain: Chain;
  readonly publicClient: PublicClient;
  readonly testClient: TestClient<"anvil">;
  /**
   * Who makes blocks: "manual" = this code mines after each transaction (deployment, tests);
   * "external" = a block producer runs (the local relay's timer, or a real chain): wait for it.
   */
  readonly blocks: "manual" | "external";
};

/** The same devnet, for when a block producer is running: transactions wait to be mined. */
export function withExternalBlocks(devnet: Devnet): Devnet {
  return { ...devnet, blocks: "external" };
}

export function devnetChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `devnet-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/**
 * viem's HTTP transport refuses answers over 10 MB. A devnet under a benchmark's load mines blocks
 * of thousands of transactions, and waiting for a receipt reads whole blocks: at 1,000 tx/s that
 * refused, and stopped the benchmark's attacks. The node is local and ours: allow 256 MB.
 */
const devnetTransport = (url: string) => http(url, { maxResponseBodySize: 256 * 1024 * 1024 });

export async function connectDevnet(rpcUrl: string): Promise<Devnet> {
  const probe = createPublicClient({ transport: http(rpcUrl) });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (error) {
    throw new RpcError(`no JSON-RPC node answered at ${rpcUrl}`, {
      hint: "start Anvil (`vigil devnet`) or pass the right --rpc URL",
      cause: error,
    });
  }
  const chain = devnetChain(chainId, rpcUrl);
  return {
    rpcUrl,
    chain,
    // No block-number cache: on a devnet blocks come when the builder says, not every 12 s.
    publicClient: createPublicClient({
      chain,
      transport: devnetTransport(rpcUrl),
      cacheTime: 0,
      pollingInterval: 50,
    }) as PublicClient,
    testClient: createTestClient({ chain, mode: "anvil", transport: devnetTransport(rpcUrl) }),
    blocks: "manual",
  };
}

export type TxRequest = { to?: Address; data?: Hex; value?: bigint; gas?: bigint };

/**
 * Sends one transaction, mines a block and returns the receipt; throws on revert. For deployment
 * and set-up before the local builder takes over block production.
 */
export async function execAndMine(
  devnet: Devnet,
  account: Account,
  tx: TxRequest,
): Promise<TransactionReceipt> {
  const wallet = createWalletClient({
    account,
    chain: devnet.chain,
    transport: devnetTransport(devnet.rpcUrl),
  });
  const hash = await wallet.sendTransaction({
    ...tx,
    to: tx.to ?? null,
    account,
    chain: devnet.chain,
  });
  let receipt: TransactionReceipt;
  if (devnet.blocks === "manual") {
    await devnet.testClient.mine({ blocks: 1 });
    receipt = await devnet.publicClient.getTransactionReceipt({ hash });
  } else {
    receipt = await devnet.publicClient.waitForTransactionReceipt({
      hash,
      pollingInterval: 50,
      timeout: 120_000,
    });
  }
  if (receipt.status !== "success") {
    throw new TransactionFailedError(`transaction ${hash} reverted`, {
      details: [`from ${account.address}`, `to ${tx.to ?? "(create)"}`, `block ${receipt.blockNumber}`],
      hint: "replay it with `cast run` or debug_traceTransaction to see where it failed",
    });
  }
  return receipt;
}

/** Deploys a contract from its artifact, mines it, and returns its address. */
export async function deployAndMine<const abi extends Abi>(
  devnet: Devnet,
  account: Account,
  artifact: { abi: abi; bytecode: Hex },
  args: ContractConstructorArgs<abi>,
): Promise<Address> {
  const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args } as never);
  const receipt = await execAndMine(devnet, account, { data });
  if (!receipt.contractAddress) {
    throw new TransactionFailedError(`deployment ${receipt.transactionHash} created no contract`);
  }
  return getAddress(receipt.contractAddress);
}
