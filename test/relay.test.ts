import { FlashbotsBundleProvider, FlashbotsBundleResolution } from "@flashbots/ethers-provider-bundle";
import { JsonRpcProvider, Wallet } from "ethers";
import { type Hex, keccak256, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anvilAccount } from "../src/devnet/accounts.ts";
import { connectDevnet, type Devnet } from "../src/devnet/chain.ts";
import { type Relay, startRelay } from "../src/devnet/relay/relay.ts";
import { type AnvilInstance, startAnvil } from "../src/internal/anvil.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { signTx } from "./helpers.ts";

// The relay against the unmodified @flashbots/ethers-provider-bundle, on a real Anvil.
describe("local relay and builder", () => {
  let anvil: AnvilInstance;
  let relay: Relay;
  let devnet: Devnet;
  let provider: JsonRpcProvider;
  let flashbots: FlashbotsBundleProvider;
  const authKey = "0x0123456789012345678901234567890123456789012345678901234567890123";
  const REVERTER = "0x000000000000000000000000000000000000dEaD" as const;

  beforeAll(async () => {
    anvil = await startAnvil({ noMining: true, order: "fifo" });
    devnet = await connectDevnet(anvil.rpcUrl);
    // Code that always reverts: calling it makes a transaction fail.
    await devnet.testClient.setCode({ address: REVERTER, bytecode: "0x60006000fd" });
    relay = await startRelay({
      rpcUrl: anvil.rpcUrl,
      wsUrl: anvil.wsUrl,
      blockTimeMs: 0,
      coinbase: "0x00000000000000000000000000000000c0ffee00",
      logger: silentLogger(),
    });
    provider = new JsonRpcProvider(anvil.rpcUrl, undefined, {
      cacheTimeout: -1,
      pollingInterval: 50,
      batchMaxCount: 1,
    });
    // The library is CommonJS and types ethers' CJS build; the ESM provider is the same at runtime.
    type Create = Parameters<typeof FlashbotsBundleProvider.create>;
    flashbots = await FlashbotsBundleProvider.create(
      provider as unknown as Create[0],
      new Wallet(authKey) as unknown as Create[1],
      relay.url,
      Number(devnet.chain.id),
    );
  });

  afterAll(async () => {
    provider?.destroy();
    await relay?.stop();
    await anvil?.stop();
  });

  async function head(): Promise<number> {
    return Number(await devnet.publicClient.getBlockNumber({ cacheTime: 0 }));
  }

  async function blockTxs(n: bigint): Promise<Hex[]> {
    const b = await devnet.publicClient.getBlock({ blockNumber: n });
    return b.transactions as Hex[];
  }

  const transfer = (i: number, tipGwei: number, nonce?: number) =>
    signTx(devnet, anvilAccount(i), {
      to: anvilAccount(0).address,
      value: parseEther("0.01"),
      tipGwei,
      gas: 21_000n,
      ...(nonce === undefined ? {} : { nonce }),
    });

  it("places a bundle sent after a public transaction ahead of it in the next block", async () => {
    const publicTx = await transfer(1, 50); // pays a high tip, sent first
    const publicHash = await devnet.publicClient.sendRawTransaction({ serializedTransaction: publicTx });
    const bundleTx = await transfer(2, 2);
    const target = (await head()) + 1;
    const sent = await flashbots.sendRawBundle([bundleTx], target);
    if ("error" in sent) throw new Error(sent.error.message);
    const waited = sent.wait();
    const built = await relay.buildBlock();
    expect(built.number).toBe(BigInt(target));
    expect(built.included).toEqual([sent.bundleHash]);
    expect(await blockTxs(built.number)).toEqual([keccak256(bundleTx), publicHash]);
    expect(await waited).toBe(FlashbotsBundleResolution.BundleIncluded);
  });

  it("orders bundles by what they pay", async () => {
    const cheap = await transfer(3, 1);
    const rich = await transfer(4, 40);
    const target = (await head()) + 1;
    const a = await flashbots.sendRawBundle([cheap], target);
    const b = await flashbots.sendRawBundle([rich], target);
    if ("error" in a || "error" in b) throw new Error("send failed");
    const built = await relay.buildBlock();
    expect(built.included).toEqual([b.bundleHash, a.bundleHash]);
    expect(await blockTxs(built.number)).toEqual([keccak256(rich), keccak256(cheap)]);
  });

  it("drops a bundle whose transaction reverts unless the hash is allowed to revert", async () => {
    const okTx = await transfer(5, 3);
    const failing = await signTx(devnet, anvilAccount(6), { to: REVERTER, tipGwei: 3 });
    const target = (await head()) + 1;
    const strict = await flashbots.sendRawBundle([okTx, failing], target);
    if ("error" in strict) throw new Error(strict.error.message);
    const built = await relay.buildBlock();
    expect(built.included).toEqual([]);
    expect(built.rejected.map((r) => r.bundleHash)).toEqual([strict.bundleHash]);
    expect(built.rejected[0]?.reason).toMatch(/reverted/);
    expect(await blockTxs(built.number)).toEqual([]);

    const target2 = (await head()) + 1;
    const lenient = await flashbots.sendRawBundle([okTx, failing], target2, {
      revertingTxHashes: [keccak256(failing)],
    });
    if ("error" in lenient) throw new Error(lenient.error.message);
    const built2 = await relay.buildBlock();
    expect(built2.included).toEqual([lenient.bundleHash]);
    const receipt = await devnet.publicClient.getTransactionReceipt({ hash: keccak256(failing) });
    expect(receipt.status).toBe("reverted");
  });

  it("honours the target block and the timestamp window", async () => {
    const tx = await transfer(7, 2);
    const next = (await head()) + 1;
    const later = await flashbots.sendRawBundle([tx], next + 1);
    const future = await flashbots.sendRawBundle([await transfer(8, 2)], next, {
      minTimestamp: Math.floor(Date.now() / 1000) + 3600,
    });
    if ("error" in later || "error" in future) throw new Error("send failed");
    const first = await relay.buildBlock();
    expect(first.included).toEqual([]);
    const second = await relay.buildBlock();
    expect(second.included).toEqual([later.bundleHash]);
  });

  it("replaces and cancels bundles by replacementUuid", async () => {
    const uuid = "2b0d7a4e-8c8b-4e52-9d7e-1f1a3c3f7a10";
    const target = (await head()) + 1;
    const v1 = await flashbots.sendRawBundle([await transfer(1, 2)], target, { replacementUuid: uuid });
    const v2 = await flashbots.sendRawBundle([await transfer(2, 2)], target, { replacementUuid: uuid });
    if ("error" in v1 || "error" in v2) throw new Error("send failed");
    const built = await relay.buildBlock();
    expect(built.included).toEqual([v2.bundleHash]);

    const cancelUuid = "9f7c1d2e-0000-4000-8000-00000000abcd";
    const target2 = (await head()) + 1;
    await flashbots.sendRawBundle([await transfer(3, 2)], target2, { replacementUuid: cancelUuid });
    const cancelled = await flashbots.cancelBundles(cancelUuid);
    expect("bundleHashes" in cancelled && cancelled.bundleHashes.length).toBe(1);
    const built2 = await relay.buildBlock();
    expect(built2.included).toEqual([]);
  });

  it("simulates a bundle with eth_callBundle", async () => {
    const tx = await transfer(4, 7);
    const failing = await signTx(devnet, anvilAccount(5), { to: REVERTER, tipGwei: 1 });
    const sim = await flashbots.simulate([tx, failing], (await head()) + 1);
    if ("error" in sim) throw new Error(sim.error.message);
    expect(sim.results).toHaveLength(2);
    expect(sim.totalGasUsed).toBeGreaterThan(21_000);
    expect(sim.coinbaseDiff).toBeGreaterThan(0n);
    expect(sim.firstRevert?.txHash).toBe(keccak256(failing));
  });

  it("refuses a request whose X-Flashbots-Signature does not match", async () => {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_sendBundle",
      params: [{ txs: [await transfer(6, 1)], blockNumber: "0x99" }],
    });
    const account = anvilAccount(9);
    const signature = await account.signMessage({ message: keccak256(new TextEncoder().encode(`${body} `)) });
    const res = await fetch(relay.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-flashbots-signature": `${account.address}:${signature}`,
      },
      body,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/does not match/);
    const unsigned = await fetch(relay.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(unsigned.status).toBe(403);
    // A correctly signed one is accepted.
    const good = await account.signMessage({ message: keccak256(new TextEncoder().encode(body)) });
    const ok = await fetch(relay.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-flashbots-signature": `${account.address}:${good}` },
      body,
    });
    expect(ok.status).toBe(200);
  });

  it("puts back a pending transaction the node lost, so its sender does not stall", async () => {
    // Anvil forgets a transaction when the pool is reshuffled around it (see the builder's note).
    // Here the loss is made on purpose: both of a sender's transactions are dropped and only the
    // first comes back. The second was heard on the pending feed, so the builder sends it again.
    const sender = anvilAccount(9);
    const nonce = await devnet.publicClient.getTransactionCount({ address: sender.address });
    const first = await signTx(devnet, sender, { to: anvilAccount(0).address, tipGwei: 2, nonce });
    const second = await signTx(devnet, sender, {
      to: anvilAccount(0).address,
      tipGwei: 2,
      nonce: nonce + 1,
    });
    for (const raw of [first, second])
      await devnet.publicClient.sendRawTransaction({ serializedTransaction: raw });
    for (const raw of [first, second]) await devnet.testClient.dropTransaction({ hash: keccak256(raw) });
    await devnet.publicClient.sendRawTransaction({ serializedTransaction: first });

    let recovered = 0;
    for (let i = 0; i < 10; i++) {
      const built = await relay.buildBlock();
      recovered += built.recoveredPublic;
      if ((await devnet.publicClient.getTransactionCount({ address: sender.address })) === nonce + 2) break;
      await new Promise((r) => setTimeout(r, 100)); // the feed may not have delivered it yet
    }
    expect(await devnet.publicClient.getTransactionCount({ address: sender.address })).toBe(nonce + 2);
    expect(recovered).toBe(1);
    const receipt = await devnet.publicClient.getTransactionReceipt({ hash: keccak256(second) });
    expect(receipt.status).toBe("success");
  });

  it("answers malformed bundles with a JSON-RPC error naming the field", async () => {
    const res = await flashbots.sendRawBundle(["0x1234"], (await head()) + 1);
    expect("error" in res && res.error.message).toMatch(/txs\[0\] is not a valid signed transaction/);
  });
});
