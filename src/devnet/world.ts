import fs from "node:fs";
import path from "node:path";
import { type Account, type Address, encodeFunctionData, getAddress, parseEventLogs, parseUnits } from "viem";
import {
  DevToken,
  FlashLender,
  Guardian,
  SwapRouter,
  UniswapV2Factory,
  UniswapV2Pair,
  VulnerableSpotPriceLendingMarket,
} from "../contracts/generated/artifacts.ts";
import { TransactionFailedError } from "../internal/errors.ts";
import { devnetAccount } from "./accounts.ts";
import { type Devnet, deployAndMine, execAndMine } from "./chain.ts";
import {
  createSafe,
  deploySafeInfra,
  execSafeTx,
  type SafeInfra,
  safeCall,
  safeNonce,
  signSafeTx,
} from "./safe.ts";

/**
 * The devnet world: real ERC-20s (OpenZeppelin), real Uniswap V2 (the npm build artifacts), an
 * ERC-3156 flash lender, a deliberately vulnerable lending market that prices collateral from a
 * V2 pair's spot reserves, a Safe 1.4.1 (2-of-3) as the Guardian's governance, and the Guardian.
 * Every Guardian setting goes through real Safe transactions signed by two owners.
 */

/** Amounts of the world, in whole tokens (USD has 6 decimals, COLL and WETH 18). */
export const WORLD_PARAMS = {
  pricePair: { usd: 1_000_000n, coll: 1_000n },
  fundingPair: { usd: 20_000_000n, weth: 10_000n },
  arbPair: { usd: 500_000n, coll: 500n },
  lenderUsd: 10_000_000n,
  lenderFeeBps: 5n,
  marketUsd: 1_000_000n,
  ltvBps: 7_500n,
  /** Tokens handed to each benign actor for drill traffic. */
  actorUsd: 2_000_000n,
  actorColl: 2_000n,
  actorWeth: 1_000n,
  guardian: { maxPauseDurationSec: 86_400n, budgetWindowSec: 3_600n, sentinelBudget: 20 },
} as const;

export type Deployment = {
  chainId: number;
  rpcUrl: string;
  deployedAtBlock: string;
  accounts: {
    deployer: Address;
    safeOwners: Address[];
    sentinel: Address;
    attacker: Address;
    trader: Address;
    whale: Address;
    arbitrageur: Address;
  };
  tokens: { usd: Address; coll: Address; weth: Address };
  uniswap: {
    factory: Address;
    sushiFactory: Address;
    pricePair: Address;
    fundingPair: Address;
    arbPair: Address;
  };
  flashLender: Address;
  market: Address;
  /** Exact-input swaps through one pair, for benign drill traffic. */
  router: Address;
  safe: SafeInfra & { address: Address; owners: Address[]; threshold: number };
  guardian: {
    address: Address;
    maxPauseDurationSec: string;
    budgetWindowSec: string;
    sentinelBudget: number;
  };
};

export type DeployProgress = (step: string) => void;

export async function deployWorld(devnet: Devnet, progress: DeployProgress = () => {}): Promise<Deployment> {
  const deployer = devnetAccount("deployer");
  const owner1 = devnetAccount("safeOwner1");
  const owner2 = devnetAccount("safeOwner2");
  const owners = [owner1, owner2, devnetAccount("safeOwner3")];
  const sentinel = devnetAccount("sentinel");
  const actors = [devnetAccount("trader"), devnetAccount("whale"), devnetAccount("arbitrageur")];
  const P = WORLD_PARAMS;

  progress("tokens");
  const usd = await deployAndMine(devnet, deployer, DevToken, ["Dev USD", "USD", 6, deployer.address]);
  const coll = await deployAndMine(devnet, deployer, DevToken, [
    "Dev Collateral",
    "COLL",
    18,
    deployer.address,
  ]);
  const weth = await deployAndMine(devnet, deployer, DevToken, [
    "Dev Wrapped Ether",
    "WETH",
    18,
    deployer.address,
  ]);
  const units = (token: Address, n: bigint) => parseUnits(n.toString(), token === usd ? 6 : 18);
  const mint = (token: Address, to: Address, n: bigint) =>
    execAndMine(devnet, deployer, {
      to: token,
      data: encodeFunctionData({ abi: DevToken.abi, functionName: "mint", args: [to, units(token, n)] }),
    });

  progress("uniswap v2");
  const factory = await deployAndMine(devnet, deployer, UniswapV2Factory, [deployer.address]);
  const sushiFactory = await deployAndMine(devnet, deployer, UniswapV2Factory, [deployer.address]);
  const addLiquidity = async (f: Address, a: Address, amountA: bigint, b: Address, amountB: bigint) => {
    const receipt = await execAndMine(devnet, deployer, {
      to: f,
      data: encodeFunctionData({ abi: UniswapV2Factory.abi, functionName: "createPair", args: [a, b] }),
    });
    const [created] = parseEventLogs({
      abi: UniswapV2Factory.abi,
      eventName: "PairCreated",
      logs: receipt.logs,
    });
    if (!created) throw new TransactionFailedError("UniswapV2Factory.createPair emitted no PairCreated");
    // PairCreated(token0, token1, pair, allPairsLength): the pair argument is unnamed in the ABI.
    const pair = created.args[2];
    await mint(a, pair, amountA);
    await mint(b, pair, amountB);
    await execAndMine(devnet, deployer, {
      to: pair,
      data: encodeFunctionData({ abi: UniswapV2Pair.abi, functionName: "mint", args: [deployer.address] }),
    });
    return pair;
  };
  const pricePair = await addLiquidity(factory, usd, P.pricePair.usd, coll, P.pricePair.coll);
  const fundingPair = await addLiquidity(factory, usd, P.fundingPair.usd, weth, P.fundingPair.weth);
  const arbPair = await addLiquidity(sushiFactory, usd, P.arbPair.usd, coll, P.arbPair.coll);

  progress("flash lender");
  const flashLender = await deployAndMine(devnet, deployer, FlashLender, [P.lenderFeeBps, deployer.address]);
  await mint(usd, flashLender, P.lenderUsd);

  progress("safe 2-of-3");
  const infra = await deploySafeInfra(devnet, deployer);
  const safe = await createSafe(
    devnet,
    deployer,
    infra,
    owners.map((o) => o.address),
    2,
  );

  progress("guardian");
  const guardian = await deployAndMine(devnet, deployer, Guardian, [
    safe,
    P.guardian.maxPauseDurationSec,
    P.guardian.budgetWindowSec,
  ]);

  progress("lending market");
  const market = await deployAndMine(devnet, deployer, VulnerableSpotPriceLendingMarket, [
    coll,
    usd,
    pricePair,
    P.ltvBps,
    deployer.address,
    guardian,
  ]);
  await mint(usd, deployer.address, P.marketUsd);
  await execAndMine(devnet, deployer, {
    to: usd,
    data: encodeFunctionData({
      abi: DevToken.abi,
      functionName: "approve",
      args: [market, units(usd, P.marketUsd)],
    }),
  });
  await execAndMine(devnet, deployer, {
    to: market,
    data: encodeFunctionData({
      abi: VulnerableSpotPriceLendingMarket.abi,
      functionName: "supply",
      args: [units(usd, P.marketUsd)],
    }),
  });

  progress("guardian configuration through the safe");
  const chainId = Number(devnet.chain.id);
  const viaSafe = async (data: `0x${string}`, signers: readonly Account[]) => {
    const tx = safeCall(guardian, data, await safeNonce(devnet, safe));
    const signatures = await Promise.all(signers.map((s) => signSafeTx(s, safe, chainId, tx)));
    return execSafeTx(devnet, deployer, safe, tx, signatures);
  };
  await viaSafe(
    encodeFunctionData({
      abi: Guardian.abi,
      functionName: "addSentinel",
      args: [sentinel.address, P.guardian.sentinelBudget],
    }),
    [owner1, owner2],
  );
  await viaSafe(encodeFunctionData({ abi: Guardian.abi, functionName: "addTarget", args: [market] }), [
    owner1,
    owner2,
  ]);

  progress("actor balances and approvals");
  const router = await deployAndMine(devnet, deployer, SwapRouter, []);
  const maxUint = 2n ** 256n - 1n;
  for (const actor of actors) {
    await mint(usd, actor.address, P.actorUsd);
    await mint(coll, actor.address, P.actorColl);
    await mint(weth, actor.address, P.actorWeth);
    for (const token of [usd, coll]) {
      for (const spender of [router, market]) {
        await execAndMine(devnet, actor, {
          to: token,
          data: encodeFunctionData({ abi: DevToken.abi, functionName: "approve", args: [spender, maxUint] }),
        });
      }
    }
  }

  const head = await devnet.publicClient.getBlockNumber();
  return {
    chainId,
    rpcUrl: devnet.rpcUrl,
    deployedAtBlock: head.toString(),
    accounts: {
      deployer: deployer.address,
      safeOwners: owners.map((o) => o.address),
      sentinel: sentinel.address,
      attacker: devnetAccount("attacker").address,
      trader: devnetAccount("trader").address,
      whale: devnetAccount("whale").address,
      arbitrageur: devnetAccount("arbitrageur").address,
    },
    tokens: { usd, coll, weth },
    uniswap: { factory, sushiFactory, pricePair, fundingPair, arbPair },
    flashLender,
    market,
    router,
    safe: { ...infra, address: safe, owners: owners.map((o) => o.address), threshold: 2 },
    guardian: {
      address: guardian,
      maxPauseDurationSec: P.guardian.maxPauseDurationSec.toString(),
      budgetWindowSec: P.guardian.budgetWindowSec.toString(),
      sentinelBudget: P.guardian.sentinelBudget,
    },
  };
}

export function writeDeployment(file: string, deployment: Deployment): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
}

/** Readable summary of a deployment, one contract per line. */
export function formatDeployment(d: Deployment): string {
  const rows: [string, string][] = [
    ["chain id", String(d.chainId)],
    ["rpc", d.rpcUrl],
    ["Guardian", d.guardian.address],
    ["Safe (2-of-3 governance)", d.safe.address],
    ["VulnerableSpotPriceLendingMarket", d.market],
    ["FlashLender (ERC-3156)", d.flashLender],
    ["SwapRouter", d.router],
    ["Uniswap V2 factory", d.uniswap.factory],
    ["  USD/COLL pair (market's price)", d.uniswap.pricePair],
    ["  USD/WETH pair", d.uniswap.fundingPair],
    ["Second V2 factory", d.uniswap.sushiFactory],
    ["  USD/COLL pair", d.uniswap.arbPair],
    ["USD token (6 decimals)", d.tokens.usd],
    ["COLL token", d.tokens.coll],
    ["WETH token", d.tokens.weth],
    [
      "sentinel",
      `${d.accounts.sentinel} (budget ${d.guardian.sentinelBudget}/${d.guardian.budgetWindowSec}s)`,
    ],
    ["safe owners", d.safe.owners.map((o) => getAddress(o)).join(", ")],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}
