import {
  type Abi,
  type Address,
  type ContractConstructorArgs,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseUnits,
  toHex,
} from "viem";
import { privateKeyToAddress } from "viem/accounts";
import {
  AaveStyleLendingPool,
  BalancerStyleVault,
  BatchSwapRouter,
  CloneRunner,
  CurveLikePool,
  DevToken,
  DonationLiquidationMarket,
  DonationVault,
  FlashLiquidator,
  LpCollateralLender,
  MultiSourceArbitrage,
  RewardMinter,
  ShareVault,
  TokenLauncher,
  TwapOracle,
  UniswapV2Factory,
  UniswapV2Pair,
  VaultShareLender,
  VirtualPriceLender,
} from "../contracts/generated/artifacts.ts";
import type { Deployment } from "../devnet/world.ts";
import type { DatasetChain, OutgoingTx } from "./chain.ts";

/**
 * The scenario-library world on top of the devnet world (`deployWorld`), as the Forge
 * `ScenarioFixture` builds it: the four flash-loan sources plus the Uniswap V2 flash-swap pair
 * (100M USD each), the victims' pools, every victim seeded as in the fixture with PAUSER_ROLE held
 * by the devnet Guardian, benign infrastructure (batch router, TWAP oracle, token launcher, bots'
 * contracts), and funded actors with their approvals. Extra over the fixture, for realistic
 * traffic: second-venue (sushi) USD/WETH and USD/STK pools for arbitrage, a "mature"
 * DonationVault/VaultShareLender that ordinary users use, and several freshly listed (empty) ones:
 * pattern 6 only works on an empty vault and a two-transaction attack occupies one for good.
 */

const MAX = 2n ** 256n - 1n;
export const USD_DECIMALS = 6;
export const usd = (n: number | bigint | string) => parseUnits(String(n), USD_DECIMALS);
export const e18 = (n: number | bigint | string) => parseUnits(String(n), 18);

export const WORLD = {
  sourceUsd: 100_000_000n,
  victimUsd: 1_000_000n,
  /** Fresh (empty) DonationVault + VaultShareLender pairs, targets of pattern 6. */
  freshDonationMarkets: 16,
  /**
   * Extra DonationLiquidationMarkets (1M deposited each): a two-transaction pattern-9 attack levers
   * up in its first, mined, transaction and that position stays (the exploit is never mined), so
   * each such attack gets a market of its own.
   */
  spareEulerMarkets: 10,
  users: 24,
  /** Users that also receive LP tokens of the uni USD/COLL pair (collateral of LpCollateralLender). */
  lpUsers: 8,
  whales: 4,
  bots: 3,
  keepers: 2,
  attackers: 12,
  twapPeriodSec: 600n,
} as const;

export type VictimKind =
  | "spot-market"
  | "share-vault"
  | "lp-lender"
  | "reward-minter"
  | "donation-vault"
  | "share-lender"
  | "curve-pool"
  | "vp-lender"
  | "euler-market";

export type Victim = { name: string; kind: VictimKind; address: Address };

export type DonationMarket = { index: number; vault: Address; lender: Address; fresh: boolean };

export type Bot = { eoa: Address; arbitrage: Address; liquidator: Address };

export type ScenarioWorld = {
  base: Deployment;
  deployer: Address;
  pauser: Address;
  tokens: { usd: Address; coll: Address; weth: Address; usdx: Address; stk: Address; rwd: Address };
  factories: { uni: Address; sushi: Address };
  pairs: {
    /** uni USD/COLL 1M/1,000: the spot market's price and LpCollateralLender's collateral. */
    uniColl: Address;
    /** sushi USD/COLL 500k/500. */
    sushiColl: Address;
    /** uni USD/WETH, grown to 100M/50,000: the Uniswap V2 flash-swap source. */
    uniWeth: Address;
    /** sushi USD/WETH 4M/2,000. */
    sushiWeth: Address;
    /** uni USD/USDX, ShareVault's price pool (re-pegged ~6M/6M). */
    vault: Address;
    /** uni USD/STK 20M/10,000, RewardMinter's price pair. */
    stake: Address;
    /** sushi USD/STK 2M/1,000. */
    sushiStk: Address;
    /** uni USD/RWD 500k/500k, where rewards are dumped. */
    reward: Address;
  };
  sources: { erc3156: Address; v2: Address; aave: Address; aaveToken: Address; balancer: Address };
  victims: {
    market: Address;
    shareVault: Address;
    lpLender: Address;
    minter: Address;
    donation: DonationMarket[];
    curvePool: Address;
    vpLender: Address;
    eMarket: Address;
    spareEMarkets: Address[];
  };
  /** Every victim contract: the detector protects all of them. */
  victimList: Victim[];
  infra: {
    swapRouter: Address;
    batchRouter: Address;
    twap: Address;
    launcher: Address;
    /** Shared CloneRunner deployed by nobody in particular (attackers also deploy their own). */
    cloneRunner: Address;
  };
  actors: {
    /** users[0] is "alice", the fixture's honest depositor. */
    users: Address[];
    lpUsers: Address[];
    whales: Address[];
    bots: Bot[];
    keepers: Address[];
    attackers: Address[];
  };
};

/** A deterministic EOA for a dataset role (keys derivable from the label; nobody needs them). */
export function datasetAddress(label: string): Address {
  return privateKeyToAddress(keccak256(toHex(`vigil-dataset/${label}`)));
}

type Setup = {
  call(from: Address, to: Address, data: Hex, gas?: bigint): Promise<void>;
  deploy<const abi extends Abi>(
    from: Address,
    artifact: { abi: abi; bytecode: Hex },
    args: ContractConstructorArgs<abi>,
  ): Promise<Address>;
  /** Mines what was sent and throws if anything failed. */
  flush(what: string): Promise<void>;
};

function setupOn(chain: DatasetChain): Setup {
  let pending: Hex[] = [];
  const send = async (tx: OutgoingTx) => {
    const [h] = await chain.send([tx]);
    if (h) pending.push(h);
  };
  return {
    async call(from, to, data, gas = 2_000_000n) {
      await send({ from, to, data, gas });
    },
    async deploy(from, artifact, args) {
      const address = await chain.nextContractAddress(from);
      const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args } as never);
      await send({ from, to: null, data, gas: 12_000_000n });
      return address;
    },
    async flush(what) {
      const hashes = pending;
      pending = [];
      const found = new Map<Hex, string>();
      for (let i = 0; i < 10 && found.size < hashes.length; i++) {
        const { receipts } = await chain.mine();
        for (const [h, r] of receipts) found.set(h, r.status);
      }
      const bad = hashes.findIndex((h) => found.get(h) !== "success");
      if (bad >= 0)
        throw new Error(
          `world set-up (${what}): transaction ${bad} ${found.get(hashes[bad] as Hex) ?? "not mined"}`,
        );
    },
  };
}

const fn = <const abi extends Abi>(abi: abi, functionName: string, args: readonly unknown[]): Hex =>
  encodeFunctionData({ abi, functionName, args } as never);

export type WorldProgress = (step: string) => void;

export async function deployScenarioWorld(
  chain: DatasetChain,
  base: Deployment,
  progress: WorldProgress = () => {},
): Promise<ScenarioWorld> {
  const W = WORLD;
  const s = setupOn(chain);
  const deployer = base.accounts.deployer;
  const pauser = base.guardian.address;
  const { usd: USD, coll: COLL, weth: WETH } = base.tokens;
  const uni = base.uniswap.factory;
  const sushi = base.uniswap.sushiFactory;

  const users = Array.from({ length: W.users }, (_, i) => datasetAddress(`user/${i}`));
  const lpUsers = users.slice(0, W.lpUsers);
  const whales = Array.from({ length: W.whales }, (_, i) => datasetAddress(`whale/${i}`));
  const botEoas = Array.from({ length: W.bots }, (_, i) => datasetAddress(`bot/${i}`));
  const keepers = Array.from({ length: W.keepers }, (_, i) => datasetAddress(`keeper/${i}`));
  const attackers = Array.from({ length: W.attackers }, (_, i) => datasetAddress(`attacker/${i}`));
  const supplier = datasetAddress("aave-supplier");
  for (const a of [deployer, ...users, ...whales, ...botEoas, ...keepers, ...attackers, supplier]) {
    await chain.setBalance(a, 10n ** 24n);
  }

  const mint = (token: Address, to: Address, amount: bigint) =>
    s.call(deployer, token, fn(DevToken.abi, "mint", [to, amount]), 200_000n);
  const approve = (from: Address, token: Address, spender: Address) =>
    s.call(from, token, fn(DevToken.abi, "approve", [spender, MAX]), 200_000n);

  progress("tokens, sources and infrastructure");
  const USDX = await s.deploy(deployer, DevToken, ["Dev USD X", "USDX", 6, deployer]);
  const STK = await s.deploy(deployer, DevToken, ["Dev Stake", "STK", 18, deployer]);
  const RWD = await s.deploy(deployer, DevToken, ["Dev Reward", "RWD", 18, deployer]);
  // Sources, 100M USD each: the ERC-3156 lender and the V2 pair topped up (the pair to
  // 100M USD / 50,000 WETH), an Aave-style pool funded by a supplier's deposit, a Balancer-style vault.
  const src = usd(W.sourceUsd);
  await mint(USD, base.flashLender, src - usd(10_000_000));
  await mint(USD, base.uniswap.fundingPair, src - usd(20_000_000));
  await mint(WETH, base.uniswap.fundingPair, e18(50_000) - e18(10_000));
  await s.call(deployer, base.uniswap.fundingPair, fn(UniswapV2Pair.abi, "mint", [deployer]));
  const aave = await s.deploy(deployer, AaveStyleLendingPool, [deployer]);
  await s.call(deployer, aave, fn(AaveStyleLendingPool.abi, "initReserve", [USD]), 5_000_000n);
  await mint(USD, supplier, src);
  await approve(supplier, USD, aave);
  await s.call(supplier, aave, fn(AaveStyleLendingPool.abi, "deposit", [USD, src, supplier, 0]));
  const balancer = await s.deploy(deployer, BalancerStyleVault, [1n]);
  await mint(USD, balancer, src);
  const batchRouter = await s.deploy(deployer, BatchSwapRouter, []);
  const twap = await s.deploy(deployer, TwapOracle, [W.twapPeriodSec]);
  const launcher = await s.deploy(deployer, TokenLauncher, []);
  const cloneRunner = await s.deploy(deployer, CloneRunner, []);
  const newPairs = [
    [uni, USD, USDX],
    [uni, USD, STK],
    [uni, USD, RWD],
    [sushi, USD, WETH],
    [sushi, USD, STK],
  ] as const;
  for (const [f, a, b] of newPairs) {
    await s.call(deployer, f, fn(UniswapV2Factory.abi, "createPair", [a, b]), 5_000_000n);
  }
  await s.flush("tokens and sources");
  const [vaultPool, stakePair, rewardPool, sushiWeth, sushiStk] = await Promise.all(
    newPairs.map(([f, a, b]) => chain.read(f, UniswapV2Factory.abi, "getPair", [a, b])),
  );
  const aaveToken = await chain.read(aave, AaveStyleLendingPool.abi, "aTokenOf", [USD]);
  if (!vaultPool || !stakePair || !rewardPool || !sushiWeth || !sushiStk) throw new Error("pairs missing");

  progress("pools and victims");
  const seed = async (pair: Address, a: Address, amountA: bigint, b: Address, amountB: bigint) => {
    await mint(a, pair, amountA);
    await mint(b, pair, amountB);
    await s.call(deployer, pair, fn(UniswapV2Pair.abi, "mint", [deployer]));
  };
  await seed(vaultPool, USD, usd(5_000_000), USDX, usd(5_000_000));
  await seed(stakePair, USD, usd(20_000_000), STK, e18(10_000));
  await seed(rewardPool, USD, usd(500_000), RWD, e18(500_000));
  await seed(sushiWeth, USD, usd(4_000_000), WETH, e18(2_000));
  await seed(sushiStk, USD, usd(2_000_000), STK, e18(1_000));
  const alice = users[0] as Address;
  const victimUsd = usd(W.victimUsd);
  const supply = async (lender: Address) => {
    await mint(USD, deployer, victimUsd);
    await approve(deployer, USD, lender);
    await s.call(deployer, lender, fn(LpCollateralLender.abi, "supply", [victimUsd]));
  };

  // ShareVault: alice deposits 2M, half is invested; the pool is re-pegged below.
  const shareVault = await s.deploy(deployer, ShareVault, [
    USD,
    USDX,
    vaultPool,
    "Share Vault USD",
    "svUSD",
    deployer,
    pauser,
  ]);
  await mint(USD, alice, usd(2_000_000));
  await approve(alice, USD, shareVault);
  await s.call(alice, shareVault, fn(ShareVault.abi, "deposit", [usd(2_000_000), alice]));
  await s.call(deployer, shareVault, fn(ShareVault.abi, "invest", [usd(1_000_000), 0n]));

  const lpLender = await s.deploy(deployer, LpCollateralLender, [
    base.uniswap.pricePair,
    USD,
    7_500n,
    8_500n,
    500n,
    deployer,
    pauser,
  ]);
  await supply(lpLender);

  // RewardMinter: every RWD the world will ever hold outside claims is minted before the
  // minter takes ownership of the token.
  const minter = await s.deploy(deployer, RewardMinter, [
    STK,
    RWD,
    stakePair,
    USD,
    10n ** 12n,
    deployer,
    pauser,
  ]);
  for (const w of whales) await mint(RWD, w, e18(2_000_000));
  for (const u of users) await mint(RWD, u, e18(5_000));
  await s.call(deployer, RWD, fn(DevToken.abi, "transferOwnership", [minter]), 200_000n);
  await mint(STK, alice, e18(100));
  await approve(alice, STK, minter);
  await s.call(alice, minter, fn(RewardMinter.abi, "stake", [e18(100)]));

  const donation: DonationMarket[] = [];
  for (let k = 0; k <= W.freshDonationMarkets; k++) {
    const vault = await s.deploy(deployer, DonationVault, [
      USD,
      `Donation Vault USD ${k}`,
      `dvUSD${k}`,
      deployer,
      pauser,
    ]);
    const lender = await s.deploy(deployer, VaultShareLender, [vault, 7_500n, deployer, pauser]);
    await supply(lender);
    donation.push({ index: k, vault, lender, fresh: k > 0 });
  }

  const curvePool = await s.deploy(deployer, CurveLikePool, [
    USD,
    USDX,
    "Curve-like USD/USDX",
    "clUSD",
    deployer,
    pauser,
  ]);
  await mint(USD, deployer, victimUsd);
  await mint(USDX, deployer, victimUsd);
  await approve(deployer, USD, curvePool);
  await approve(deployer, USDX, curvePool);
  await s.call(deployer, curvePool, fn(CurveLikePool.abi, "add_liquidity", [[victimUsd, victimUsd], 0n]));
  const vpLender = await s.deploy(deployer, VirtualPriceLender, [curvePool, USD, 7_500n, deployer, pauser]);
  await supply(vpLender);

  const eMarket = await s.deploy(deployer, DonationLiquidationMarket, [
    USD,
    9_500n,
    1_000n,
    deployer,
    pauser,
  ]);
  await mint(USD, alice, victimUsd);
  await approve(alice, USD, eMarket);
  await s.call(alice, eMarket, fn(DonationLiquidationMarket.abi, "deposit", [victimUsd]));
  const spareEMarkets: Address[] = [];
  for (let k = 1; k <= W.spareEulerMarkets; k++) {
    const m = await s.deploy(deployer, DonationLiquidationMarket, [USD, 9_500n, 1_000n, deployer, pauser]);
    await mint(USD, deployer, victimUsd);
    await approve(deployer, USD, m);
    await s.call(deployer, m, fn(DonationLiquidationMarket.abi, "deposit", [victimUsd]));
    spareEMarkets.push(m);
  }
  await s.flush("pools and victims");

  progress("re-peg, bots, actors");
  // Re-peg the vault pool after the vault's investment (as the fixture does).
  const [r0, r1] = await chain.read(vaultPool, UniswapV2Pair.abi, "getReserves", []);
  const token0 = await chain.read(vaultPool, UniswapV2Pair.abi, "token0", []);
  const [rUsd, rUsdx] = token0 === USD ? [r0, r1] : [r1, r0];
  if (rUsd > rUsdx) await mint(USDX, vaultPool, rUsd - rUsdx);
  await s.call(deployer, vaultPool, fn(UniswapV2Pair.abi, "sync", []));

  const bots: Bot[] = [];
  for (const eoa of botEoas) {
    const arbitrage = await s.deploy(eoa, MultiSourceArbitrage, []);
    const liquidator = await s.deploy(eoa, FlashLiquidator, []);
    bots.push({ eoa, arbitrage, liquidator });
    await mint(USD, eoa, usd(20_000_000));
  }
  for (const k of keepers) {
    await mint(STK, k, e18(5_000));
    await approve(k, STK, minter);
  }
  for (const a of attackers) await mint(USD, a, usd(300_000_000));

  const swapRouter = base.router;
  const routers = [swapRouter, batchRouter];
  const matureVault = donation[0] as DonationMarket;
  const lenders = [base.market, lpLender, vpLender, ...donation.map((d) => d.lender)];
  for (const u of users) {
    await mint(USD, u, usd(5_000_000));
    await mint(COLL, u, e18(2_000));
    await mint(WETH, u, e18(500));
    await mint(USDX, u, usd(2_000_000));
    await mint(STK, u, e18(40));
    for (const sp of [
      ...routers,
      shareVault,
      eMarket,
      curvePool,
      launcher,
      aave,
      matureVault.vault,
      ...lenders,
    ]) {
      await approve(u, USD, sp);
    }
    for (const sp of [...routers, base.market]) await approve(u, COLL, sp);
    for (const sp of routers) await approve(u, WETH, sp);
    for (const sp of [...routers, curvePool]) await approve(u, USDX, sp);
    for (const sp of [...routers, minter]) if (u !== alice) await approve(u, STK, sp);
    if (u === alice) for (const sp of routers) await approve(u, STK, sp);
    for (const sp of routers) await approve(u, RWD, sp);
    await approve(u, base.uniswap.pricePair, lpLender);
    await approve(u, curvePool, vpLender);
    await approve(u, matureVault.vault, matureVault.lender);
  }
  for (const w of whales) {
    await mint(USD, w, usd(300_000_000));
    await mint(COLL, w, e18(50_000));
    await mint(WETH, w, e18(50_000));
    await mint(USDX, w, usd(100_000_000));
    await mint(STK, w, e18(50_000));
    for (const t of [USD, COLL, WETH, USDX, STK, RWD]) for (const sp of routers) await approve(w, t, sp);
    for (const t of [USD, USDX]) await approve(w, t, curvePool);
  }
  const lp = await chain.read(base.uniswap.pricePair, UniswapV2Pair.abi, "balanceOf", [deployer]);
  for (const u of lpUsers) {
    await s.call(deployer, base.uniswap.pricePair, fn(UniswapV2Pair.abi, "transfer", [u, (lp * 6n) / 100n]));
  }
  await s.flush("actors");

  const victimList: Victim[] = [
    { name: "VulnerableSpotPriceLendingMarket", kind: "spot-market", address: base.market },
    { name: "ShareVault", kind: "share-vault", address: shareVault },
    { name: "LpCollateralLender", kind: "lp-lender", address: lpLender },
    { name: "RewardMinter", kind: "reward-minter", address: minter },
    ...donation.flatMap((d): Victim[] => [
      { name: `DonationVault#${d.index}`, kind: "donation-vault", address: d.vault },
      { name: `VaultShareLender#${d.index}`, kind: "share-lender", address: d.lender },
    ]),
    { name: "CurveLikePool", kind: "curve-pool", address: curvePool },
    { name: "VirtualPriceLender", kind: "vp-lender", address: vpLender },
    { name: "DonationLiquidationMarket", kind: "euler-market", address: eMarket },
    ...spareEMarkets.map(
      (address, i): Victim => ({ name: `DonationLiquidationMarket#${i + 1}`, kind: "euler-market", address }),
    ),
  ];

  return {
    base,
    deployer,
    pauser,
    tokens: { usd: USD, coll: COLL, weth: WETH, usdx: USDX, stk: STK, rwd: RWD },
    factories: { uni, sushi },
    pairs: {
      uniColl: base.uniswap.pricePair,
      sushiColl: base.uniswap.arbPair,
      uniWeth: base.uniswap.fundingPair,
      sushiWeth,
      vault: vaultPool,
      stake: stakePair,
      sushiStk,
      reward: rewardPool,
    },
    sources: { erc3156: base.flashLender, v2: base.uniswap.fundingPair, aave, aaveToken, balancer },
    victims: {
      market: base.market,
      shareVault,
      lpLender,
      minter,
      donation,
      curvePool,
      vpLender,
      eMarket,
      spareEMarkets,
    },
    victimList,
    infra: { swapRouter, batchRouter, twap, launcher, cloneRunner },
    actors: { users, lpUsers, whales, bots, keepers, attackers },
  };
}
