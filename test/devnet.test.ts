import { FlashbotsBundleProvider, FlashbotsBundleResolution } from "@flashbots/ethers-provider-bundle";
import { JsonRpcProvider, Wallet } from "ethers";
import { type Address, encodeFunctionData, type Hex, keccak256, parseUnits, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DevToken,
  Guardian,
  Safe,
  SpotPriceAttacker,
  VulnerableSpotPriceLendingMarket,
} from "../src/contracts/generated/artifacts.ts";
import { devnetAccount } from "../src/devnet/accounts.ts";
import { deployAndMine } from "../src/devnet/chain.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { execSafeTx, safeCall, safeNonce, safeTxHash, signSafeTx } from "../src/devnet/safe.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { marketPaused, signTx } from "./helpers.ts";

describe("devnet world", () => {
  let net: RunningDevnet;

  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
  });

  afterAll(async () => {
    await net?.stop();
  });

  const read = <T>(address: Address, functionName: string, args: readonly unknown[] = []) =>
    net.devnet.publicClient.readContract({
      address,
      abi: Guardian.abi,
      functionName,
      args,
    } as never) as Promise<T>;

  it("deploys the world with the Safe as the Guardian's governance", async () => {
    const d = net.deployment;
    const g = d.guardian.address;
    expect(await read<Address>(g, "governance")).toBe(d.safe.address);
    // Set through two real owner signatures on the Safe (see deployWorld).
    expect(await read<boolean>(g, "isSentinel", [d.accounts.sentinel])).toBe(true);
    expect(await read<boolean>(g, "isTarget", [d.market])).toBe(true);
    const owners = await net.devnet.publicClient.readContract({
      address: d.safe.address,
      abi: Safe.abi,
      functionName: "getOwners",
    });
    expect(owners).toEqual(d.safe.owners);
    const threshold = await net.devnet.publicClient.readContract({
      address: d.safe.address,
      abi: Safe.abi,
      functionName: "getThreshold",
    });
    expect(threshold).toBe(2n);
    const liquidity = await net.devnet.publicClient.readContract({
      address: d.market,
      abi: VulnerableSpotPriceLendingMarket.abi,
      functionName: "liquidity",
    });
    expect(liquidity).toBe(parseUnits("1000000", 6));
  });

  it("needs two Safe owners: one signature is refused, two execute", async () => {
    const d = net.deployment;
    const chainId = d.chainId;
    const data = encodeFunctionData({
      abi: Guardian.abi,
      functionName: "setSentinelBudget",
      args: [d.accounts.sentinel, 7],
    });
    const tx = safeCall(d.guardian.address, data, await safeNonce(net.devnet, d.safe.address));
    // Our EIP-712 hash agrees with the Safe contract's own.
    const onChainHash = await net.devnet.publicClient.readContract({
      address: d.safe.address,
      abi: Safe.abi,
      functionName: "getTransactionHash",
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
        tx.nonce,
      ],
    });
    expect(safeTxHash(d.safe.address, chainId, tx)).toBe(onChainHash);

    const one = await signSafeTx(devnetAccount("safeOwner3"), d.safe.address, chainId, tx);
    await expect(
      execSafeTx(net.devnet, devnetAccount("deployer"), d.safe.address, tx, [one]),
    ).rejects.toThrow(/GS020/);
    // A non-owner's signature does not count either.
    const stranger = await signSafeTx(devnetAccount("attacker"), d.safe.address, chainId, tx);
    await expect(
      execSafeTx(net.devnet, devnetAccount("deployer"), d.safe.address, tx, [one, stranger]),
    ).rejects.toThrow(/Safe refused/);

    const two = await signSafeTx(devnetAccount("safeOwner1"), d.safe.address, chainId, tx);
    await execSafeTx(net.devnet, devnetAccount("deployer"), d.safe.address, tx, [one, two]);
    const [budget] = await read<readonly [number, number, bigint]>(d.guardian.address, "budgetOf", [
      d.accounts.sentinel,
    ]);
    expect(budget).toBe(7);
  });

  it("beats an attack already in the public mempool with a pause bundle sent after it", async () => {
    const d = net.deployment;
    const { publicClient } = net.devnet;
    const attacker = devnetAccount("attacker");
    const attackContract = await deployAndMine(net.devnet, attacker, SpotPriceAttacker, []);
    const usdBalance = () =>
      publicClient.readContract({
        address: d.tokens.usd,
        abi: DevToken.abi,
        functionName: "balanceOf",
        args: [attacker.address],
      });
    const marketLiquidity = () =>
      publicClient.readContract({
        address: d.market,
        abi: VulnerableSpotPriceLendingMarket.abi,
        functionName: "liquidity",
      });

    // Would the attack work? Simulate it on the current state: it drains most of the market.
    const attackData = encodeFunctionData({
      abi: SpotPriceAttacker.abi,
      functionName: "attackWithFlashLender",
      args: [d.flashLender, d.market, parseUnits("4000000", 6)],
    });
    const { data: ret } = await publicClient.call({
      account: attacker,
      to: attackContract,
      data: attackData,
    });
    expect(BigInt(ret ?? "0x0")).toBeGreaterThan(parseUnits("500000", 6));

    // The attack enters the public mempool first, paying a high tip.
    const attackRaw = await signTx(net.devnet, attacker, {
      to: attackContract,
      data: attackData,
      tipGwei: 30,
      gas: 3_000_000n,
    });
    const attackHash = await publicClient.sendRawTransaction({ serializedTransaction: attackRaw });

    // The sentinel's pause goes to the relay as a private bundle for the next block.
    const sentinel = devnetAccount("sentinel");
    const incidentId = keccak256(toHex(`incident:${attackHash}`));
    const pauseRaw = await signTx(net.devnet, sentinel, {
      to: d.guardian.address,
      data: encodeFunctionData({ abi: Guardian.abi, functionName: "pause", args: [[d.market], incidentId] }),
      tipGwei: 40,
      gas: 300_000n,
    });
    const provider = new JsonRpcProvider(net.anvil.rpcUrl, undefined, {
      cacheTimeout: -1,
      pollingInterval: 50,
      batchMaxCount: 1,
    });
    type Create = Parameters<typeof FlashbotsBundleProvider.create>;
    const flashbots = await FlashbotsBundleProvider.create(
      provider as unknown as Create[0],
      Wallet.createRandom() as unknown as Create[1],
      net.relayUrl,
      d.chainId,
    );
    const target = Number(await publicClient.getBlockNumber()) + 1;
    const sent = await flashbots.sendRawBundle([pauseRaw], target);
    if ("error" in sent) throw new Error(sent.error.message);
    const before = await usdBalance();
    const liquidityBefore = await marketLiquidity();

    // wait() watches for new blocks, so it must be listening before the block is built.
    const waited = sent.wait();
    const built = await net.buildBlock();
    expect(built.number).toBe(BigInt(target));
    const block = await publicClient.getBlock({ blockNumber: built.number });
    expect(block.transactions).toEqual([keccak256(pauseRaw), attackHash] as Hex[]);
    const pauseReceipt = await publicClient.getTransactionReceipt({ hash: keccak256(pauseRaw) });
    const attackReceipt = await publicClient.getTransactionReceipt({ hash: attackHash });
    expect(pauseReceipt.status).toBe("success");
    expect(attackReceipt.status).toBe("reverted");
    expect(await marketPaused(net.devnet, d.market)).toBe(true);
    expect(await usdBalance()).toBe(before);
    expect(await marketLiquidity()).toBe(liquidityBefore);
    expect(await waited).toBe(FlashbotsBundleResolution.BundleIncluded);
    provider.destroy();
  });
});
