import {
  type Abi,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  type Hex,
} from "viem";
import { createRpc, type Rpc } from "../internal/rpc.ts";

/**
 * The dataset's handle on the devnet: transactions are sent unsigned from any address (Anvil's
 * auto-impersonation: the dataset's actors are ordinary EOAs whose keys nobody needs), nonces are
 * tracked here so several transactions of one sender can share a block, and blocks are mined on
 * demand at a fixed 12 s interval (deterministic timestamps: a seed gives the same chain).
 */
export type ChainHead = { number: bigint; timestamp: bigint; baseFeePerGas: bigint | null; hash: Hex };

export type OutgoingTx = { from: Address; to: Address | null; data: Hex; value?: bigint; gas: bigint };

export type MinedReceipt = {
  hash: Hex;
  status: "success" | "reverted";
  gasUsed: bigint;
  contractAddress: Address | null;
};

export type DatasetChain = {
  readonly rpc: Rpc;
  readonly chainId: number;
  head(): ChainHead;
  /** Next nonce of `from` counting transactions sent but not yet mined. */
  nonce(from: Address): Promise<number>;
  /** Address the next CREATE of `from` will get (counting pending transactions). */
  nextContractAddress(from: Address): Promise<Address>;
  /** Sends transactions in order; returns their hashes. */
  send(txs: readonly OutgoingTx[]): Promise<Hex[]>;
  /** Mines one block and returns the receipts of its transactions by hash. */
  mine(): Promise<{ head: ChainHead; receipts: Map<Hex, MinedReceipt> }>;
  /** Sends, mines (as many blocks as needed) and throws if any of them reverted or was left out. */
  execute(txs: readonly OutgoingTx[], what: string): Promise<MinedReceipt[]>;
  read<
    const abi extends Abi,
    name extends ContractFunctionName<abi, "pure" | "view">,
    const args extends ContractFunctionArgs<abi, "pure" | "view", name>,
  >(
    to: Address,
    abi: abi,
    functionName: name,
    args: args,
  ): Promise<ContractFunctionReturnType<abi, "pure" | "view", name, args>>;
  /** eth_call that reports success instead of throwing (a bot's dry run before sending). */
  tryCall(from: Address, to: Address, data: Hex): Promise<boolean>;
  setBalance(address: Address, wei: bigint): Promise<void>;
};

type RpcBlock = { number: Hex; timestamp: Hex; baseFeePerGas?: Hex; hash: Hex };
type RpcReceipt = { transactionHash: Hex; status: Hex; gasUsed: Hex; contractAddress: Hex | null };

export const BLOCK_INTERVAL_SEC = 12n;

const toHead = (b: RpcBlock): ChainHead => ({
  number: BigInt(b.number),
  timestamp: BigInt(b.timestamp),
  baseFeePerGas: b.baseFeePerGas === undefined ? null : BigInt(b.baseFeePerGas),
  hash: b.hash,
});

export async function connectDatasetChain(rpcUrl: string, options: { blockGasLimit: bigint }) {
  const rpc = createRpc(rpcUrl, { timeoutMs: 120_000 });
  await rpc.call("anvil_autoImpersonateAccount", [true]);
  await rpc.call("anvil_setBlockTimestampInterval", [Number(BLOCK_INTERVAL_SEC)]);
  await rpc.call("evm_setBlockGasLimit", [`0x${options.blockGasLimit.toString(16)}`]);
  const chainId = Number(BigInt(await rpc.call<Hex>("eth_chainId")));
  let head = toHead(await rpc.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]));
  const nonces = new Map<string, number>();

  async function nonce(from: Address): Promise<number> {
    const key = from.toLowerCase();
    let n = nonces.get(key);
    if (n === undefined) {
      n = Number(BigInt(await rpc.call<Hex>("eth_getTransactionCount", [from, "latest"])));
      nonces.set(key, n);
    }
    return n;
  }

  const chain: DatasetChain = {
    rpc,
    chainId,
    head: () => head,
    nonce,
    async nextContractAddress(from) {
      return getContractAddress({ from, nonce: BigInt(await nonce(from)) });
    },
    async send(txs) {
      // One request at a time: a JSON-RPC batch may be served concurrently, and the FIFO order of
      // the block (hence the chain state, hence the features) must not depend on that.
      const hashes: Hex[] = [];
      for (const tx of txs) {
        const n = await nonce(tx.from);
        const hash = await rpc.call<Hex>("eth_sendTransaction", [
          {
            from: tx.from,
            ...(tx.to ? { to: tx.to } : {}),
            data: tx.data,
            value: `0x${(tx.value ?? 0n).toString(16)}`,
            gas: `0x${tx.gas.toString(16)}`,
            nonce: `0x${n.toString(16)}`,
          },
        ]);
        nonces.set(tx.from.toLowerCase(), n + 1);
        hashes.push(hash);
      }
      return hashes;
    },
    async mine() {
      await rpc.call("evm_mine");
      const block = await rpc.call<RpcBlock>("eth_getBlockByNumber", ["latest", false]);
      head = toHead(block);
      const raw = await rpc.call<RpcReceipt[]>("eth_getBlockReceipts", [block.number]);
      const receipts = new Map<Hex, MinedReceipt>();
      for (const r of raw) {
        receipts.set(r.transactionHash, {
          hash: r.transactionHash,
          status: r.status === "0x1" ? "success" : "reverted",
          gasUsed: BigInt(r.gasUsed),
          contractAddress: r.contractAddress ? getAddress(r.contractAddress) : null,
        });
      }
      return { head, receipts };
    },
    async execute(txs, what) {
      const hashes = await chain.send(txs);
      const found = new Map<Hex, MinedReceipt>();
      for (let i = 0; i < 20 && found.size < hashes.length; i++) {
        const { receipts } = await chain.mine();
        for (const [h, r] of receipts) found.set(h, r);
      }
      return hashes.map((h, i) => {
        const r = found.get(h);
        if (!r) throw new Error(`${what}: transaction ${i} (${h}) was not mined`);
        if (r.status !== "success") throw new Error(`${what}: transaction ${i} (${h}) reverted`);
        return r;
      });
    },
    async read(to, abi, functionName, args) {
      const data = encodeFunctionData({ abi, functionName, args } as never);
      const out = await rpc.call<Hex>("eth_call", [{ to, data }, "latest"]);
      return decodeFunctionResult({ abi, functionName, data: out } as never) as never;
    },
    async tryCall(from, to, data) {
      try {
        await rpc.call("eth_call", [{ from, to, data, gas: "0x1c9c380" }, "latest"]);
        return true;
      } catch {
        return false;
      }
    },
    async setBalance(address, wei) {
      await rpc.call("anvil_setBalance", [address, `0x${wei.toString(16)}`]);
    },
  };
  return chain;
}
