import type { Address } from "viem";
import {
  AaveStyleLendingPool,
  BatchSwapRouter,
  CurveLikePool,
  DevToken,
  DonationLiquidationMarket,
  DonationVault,
  FlashLiquidator,
  LaunchToken,
  LpCollateralLender,
  MultiSourceArbitrage,
  RewardMinter,
  ShareVault,
  SwapRouter,
  TokenLauncher,
  TwapOracle,
  UniswapV2Pair,
  VulnerableSpotPriceLendingMarket,
} from "../contracts/generated/artifacts.ts";
import { FEE_BPS, fundingStruct } from "./attacks.ts";
import {
  balanceOf,
  callTx,
  createTx,
  encode,
  FUNDING_NAMES,
  type FundingName,
  GAS,
  inputForMove,
  type Json,
  leaseOrWait,
  type PairState,
  pairState,
  rawPrice,
  reservesFor,
  type SampleMeta,
  type Step,
  type StepResult,
  step,
  type Task,
  type TaskContext,
  v2AmountOut,
  wait,
} from "./task.ts";
import { type Bot, e18, type ScenarioWorld, usd, type Victim } from "./world.ts";

/**
 * Benign traffic: everyday swaps, transfers, deposits, withdrawals, borrows and repayments
 * (most of them on the protected victims themselves), and the look-alikes of attacks.md —
 * flash-loan arbitrage from every lender shape, flash-loan liquidations after a real multi-block
 * price fall, whale swaps that move a pool 10-30%, large deposits / borrows / withdrawals within
 * each victim's rules, TWAP oracle keepers, router multicalls, token launches and ordinary
 * contract deployments. Amounts, senders and pools are drawn from the task's seeded PRNG and
 * sized from the chain's current state, so that the transactions are ones a real user would send.
 */

export const BENIGN_FAMILIES = [
  "swap",
  "whale-swap",
  "transfer",
  "deposit",
  "withdraw",
  "borrow",
  "repay",
  "flash-arbitrage",
  "flash-liquidation",
  "large-deposit-withdraw-borrow",
  "oracle-update",
  "reward-claim",
  "router-multicall",
  "token-deploy",
  "contract-deploy",
] as const;
export type BenignFamily = (typeof BENIGN_FAMILIES)[number];

/** Relative frequency with which each benign task starts (storylines write several samples). */
export const BENIGN_WEIGHTS: readonly (readonly [BenignFamily, number])[] = [
  ["swap", 16],
  ["whale-swap", 7],
  ["transfer", 8],
  ["deposit", 11],
  ["withdraw", 7],
  ["borrow", 8],
  ["repay", 6],
  ["flash-arbitrage", 9],
  ["flash-liquidation", 4.5],
  ["large-deposit-withdraw-borrow", 4],
  ["oracle-update", 4],
  ["reward-claim", 4],
  ["router-multicall", 5],
  ["token-deploy", 3],
  ["contract-deploy", 2],
];

const LENDER_ABI = LpCollateralLender.abi;
const ltvBps = 7_500n;

// ------------------------------------------------------------------ helpers

function victimAt(world: ScenarioWorld, address: Address): Victim | null {
  return world.victimList.find((v) => v.address === address) ?? null;
}

function meta(
  ctx: TaskContext,
  family: string,
  victim: Address | null,
  shape: string | null,
  params: Record<string, Json>,
  funding: FundingName | null = null,
): SampleMeta {
  return {
    family,
    kind: "benign",
    victim: victim ? victimAt(ctx.world, victim) : null,
    funding,
    shape,
    params,
  };
}

const decimalsOf = (w: ScenarioWorld, token: Address): number =>
  token === w.tokens.usd || token === w.tokens.usdx ? 6 : 18;
const whole = (v: bigint, decimals: number): number => Number(v) / 10 ** decimals;
const frac = (ctx: TaskContext, v: bigint, lo: number, hi: number): bigint =>
  (v * BigInt(Math.floor(ctx.rng.float(lo, hi) * 1e6))) / 1_000_000n;

function tokenName(w: ScenarioWorld, token: Address): string {
  for (const [k, v] of Object.entries(w.tokens)) if (v === token) return k.toUpperCase();
  if (token === w.pairs.uniColl) return "UNI-LP";
  if (token === w.victims.curvePool) return "CURVE-LP";
  return token;
}

type Pool =
  | { kind: "v2"; name: string; pair: Address; other: Address }
  | { kind: "curve"; name: string; pool: Address };

function pools(w: ScenarioWorld): Pool[] {
  const t = w.tokens;
  const p = w.pairs;
  return [
    { kind: "v2", name: "uni USD/COLL", pair: p.uniColl, other: t.coll },
    { kind: "v2", name: "sushi USD/COLL", pair: p.sushiColl, other: t.coll },
    { kind: "v2", name: "uni USD/WETH", pair: p.uniWeth, other: t.weth },
    { kind: "v2", name: "sushi USD/WETH", pair: p.sushiWeth, other: t.weth },
    { kind: "v2", name: "uni USD/USDX", pair: p.vault, other: t.usdx },
    { kind: "v2", name: "uni USD/STK", pair: p.stake, other: t.stk },
    { kind: "v2", name: "sushi USD/STK", pair: p.sushiStk, other: t.stk },
    { kind: "v2", name: "uni USD/RWD", pair: p.reward, other: t.rwd },
    { kind: "curve", name: "curve USD/USDX", pool: w.victims.curvePool },
  ];
}

/** A swap of `amountIn` through `pool` by `from`, through one of the routers (or the pool). */
async function swapStep(
  ctx: TaskContext,
  family: string,
  from: Address,
  pool: Pool,
  tokenIn: Address,
  amountIn: bigint,
  extra: Record<string, Json> = {},
): Promise<Step> {
  const { world, rng } = ctx;
  const slip = rng.chance(0.3) ? 0 : rng.float(0.005, 0.03);
  const params: Record<string, Json> = {
    pool: pool.name,
    tokenIn: tokenName(world, tokenIn),
    amountIn: whole(amountIn, decimalsOf(world, tokenIn)),
    ...extra,
  };
  if (pool.kind === "curve") {
    const i = tokenIn === world.tokens.usd ? 0n : 1n;
    const dy = await ctx.chain.read(pool.pool, CurveLikePool.abi, "get_dy", [i, 1n - i, amountIn]);
    const minDy = slip === 0 ? 0n : (dy * BigInt(Math.floor((1 - slip) * 1e6))) / 1_000_000n;
    if (rng.chance(0.5)) {
      return step(
        meta(ctx, family, pool.pool, "direct", params),
        callTx(from, pool.pool, CurveLikePool.abi, "exchange", [i, 1n - i, amountIn, minDy]),
      );
    }
    return step(
      meta(ctx, family, pool.pool, "router", params),
      callTx(from, world.infra.batchRouter, BatchSwapRouter.abi, "exchangeCurve", [
        pool.pool,
        i,
        1n - i,
        amountIn,
        minDy,
        from,
      ]),
    );
  }
  const st = await pairState(ctx, pool.pair);
  const [rin, rout] = reservesFor(st, tokenIn);
  const out = v2AmountOut(amountIn, rin, rout);
  const minOut = slip === 0 ? 0n : (out * BigInt(Math.floor((1 - slip) * 1e6))) / 1_000_000n;
  const router = rng.chance(0.55) ? world.infra.swapRouter : world.infra.batchRouter;
  return step(
    meta(ctx, family, null, "router", params),
    callTx(from, router, SwapRouter.abi, "swapExactIn", [pool.pair, tokenIn, amountIn, minOut, from]),
  );
}

async function curveBalances(ctx: TaskContext): Promise<[bigint, bigint]> {
  const p = ctx.world.victims.curvePool;
  return Promise.all([
    ctx.chain.read(p, CurveLikePool.abi, "balances", [0n]),
    ctx.chain.read(p, CurveLikePool.abi, "balances", [1n]),
  ]);
}

/** Decides direction and size of a swap moving `pool` by `move`, leaning back toward its start price. */
async function plannedSwap(
  ctx: TaskContext,
  pool: Pool,
  move: number,
  trader: Address,
): Promise<{ tokenIn: Address; amountIn: bigint } | undefined> {
  const { world, rng } = ctx;
  const USD = world.tokens.usd;
  let price: number;
  let ref: number;
  let rUsd: bigint;
  let rOther: bigint;
  let other: Address;
  if (pool.kind === "curve") {
    [rUsd, rOther] = await curveBalances(ctx);
    price = Number(rUsd) / Number(rOther);
    ref = 1;
    other = world.tokens.usdx;
  } else {
    const st = await pairState(ctx, pool.pair);
    [rUsd, rOther] = reservesFor(st, USD);
    price = rawPrice(st, USD);
    ref = ctx.state.referencePrices.get(pool.pair) ?? price;
    other = pool.other;
  }
  // Traders lean back toward the usual price, and always do when it is far off.
  const high = price > ref * 1.03;
  const low = price < ref / 1.03;
  let buyOther =
    price > ref * 1.2
      ? false
      : price < ref / 1.2
        ? true
        : high
          ? rng.chance(0.2)
          : low
            ? rng.chance(0.8)
            : rng.chance(0.5);
  for (let attempt = 0; attempt < 2; attempt++) {
    const tokenIn = buyOther ? USD : other;
    const reserveIn = buyOther ? rUsd : rOther;
    let amountIn = inputForMove(reserveIn, move);
    const held = await balanceOf(ctx, tokenIn, trader);
    if (held < amountIn) amountIn = (held * 9n) / 10n;
    if (amountIn > reserveIn / 10_000n && amountIn > 0n) return { tokenIn, amountIn };
    buyOther = !buyOther;
  }
  return undefined;
}

// ------------------------------------------------------------------ swaps and transfers

export async function* swapTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const trader = yield* leaseOrWait(ctx, rng.chance(0.9) ? world.actors.users : world.actors.whales);
  if (!trader) return undefined;
  if (rng.chance(0.15)) {
    // Two hops through USD between venues of different assets.
    const hops = rng.pick([
      [world.pairs.uniColl, world.pairs.sushiWeth, world.tokens.coll],
      [world.pairs.sushiColl, world.pairs.uniWeth, world.tokens.coll],
      [world.pairs.stake, world.pairs.uniColl, world.tokens.stk],
      [world.pairs.uniWeth, world.pairs.sushiStk, world.tokens.weth],
    ] as const);
    // Sized on both pools: a few percent of the first, at most 5% of the second's USD.
    const [first, second, held] = await Promise.all([
      pairState(ctx, hops[0]),
      pairState(ctx, hops[1]),
      balanceOf(ctx, hops[2], trader),
    ]);
    const [rIn, rUsd] = reservesFor(first, hops[2]);
    const [rUsd2] = reservesFor(second, world.tokens.usd);
    let amountIn =
      (rIn * BigInt(Math.floor(Math.exp(rng.float(Math.log(0.0005), Math.log(0.03))) * 1e6))) / 1_000_000n;
    const usdOut = v2AmountOut(amountIn, rIn, rUsd);
    if (usdOut > rUsd2 / 20n && usdOut > 0n) amountIn = (amountIn * (rUsd2 / 20n)) / usdOut;
    if (amountIn > held) amountIn = frac(ctx, held, 0.3, 0.9);
    if (amountIn === 0n) return undefined;
    yield step(
      meta(ctx, "swap", null, "router-path", {
        path: "two-hop",
        tokenIn: tokenName(world, hops[2]),
        amountIn: whole(amountIn, 18),
      }),
      callTx(trader, world.infra.batchRouter, BatchSwapRouter.abi, "swapPath", [
        [hops[0], hops[1]],
        hops[2],
        amountIn,
        0n,
        trader,
      ]),
    );
    return undefined;
  }
  const pool = rng.pick(pools(world));
  const plannedMove = Math.exp(rng.float(Math.log(0.0005), Math.log(0.06)));
  const s = await plannedSwap(ctx, pool, plannedMove, trader);
  if (!s) return undefined;
  yield await swapStep(ctx, "swap", trader, pool, s.tokenIn, s.amountIn, { targetMove: round3(plannedMove) });
  return undefined;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Smaller of two bigints (Math.min does not take bigints). */
function minBig(a: bigint, b: bigint): bigint {
  if (b < a) return b;
  return a;
}

export async function* whaleSwapTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const whale = yield* leaseOrWait(ctx, world.actors.whales);
  if (!whale) return undefined;
  const pool = rng.weighted(
    pools(world).map((p) => [p, p.kind === "curve" || p.pair === world.pairs.uniColl ? 2 : 1] as const),
  );
  const move = rng.float(0.1, 0.3);
  const s = await plannedSwap(ctx, pool, move, whale);
  if (!s) return undefined;
  yield await swapStep(ctx, "whale-swap", whale, pool, s.tokenIn, s.amountIn, { targetMove: round3(move) });
  return undefined;
}

export async function* transferTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const all = [...world.actors.users, ...world.actors.whales, ...world.actors.keepers];
  const from = yield* leaseOrWait(ctx, [...world.actors.users, ...world.actors.whales]);
  if (!from) return undefined;
  const to = rng.pick(all.filter((a) => a !== from));
  const what = rng.weighted([
    ["token", 0.75],
    ["eth", 0.15],
    ["lp", 0.1],
  ] as const);
  if (what === "eth") {
    const value = rng.logBigint(10n ** 16n, 50n * 10n ** 18n);
    yield step(meta(ctx, "transfer", null, "eth", { token: "ETH", amount: whole(value, 18) }), {
      from,
      to,
      data: "0x",
      value,
      gas: 21_000n,
    });
    return undefined;
  }
  const tokens =
    what === "lp"
      ? [
          world.pairs.uniColl,
          world.victims.curvePool,
          // alice's vault shares are her long-term deposit
          from === world.actors.users[0] ? undefined : world.victims.shareVault,
          world.victims.donation[0]?.vault,
        ]
      : Object.values(world.tokens);
  for (const token of rng.shuffle(tokens.filter((t): t is Address => t !== undefined))) {
    const held = await balanceOf(ctx, token, from);
    if (held === 0n) continue;
    const whaleSender = world.actors.whales.includes(from);
    const amount = frac(ctx, held, whaleSender ? 0.00005 : 0.001, whaleSender ? 0.004 : 0.25);
    if (amount === 0n) continue;
    // Shares of a victim vault are the victim's own token: moving them runs its code.
    const victim = token === world.victims.shareVault || token === world.victims.curvePool ? token : null;
    const dv = world.victims.donation.find((d) => d.vault === token);
    yield step(
      meta(ctx, "transfer", victim ?? dv?.vault ?? null, "erc20", {
        token: tokenName(world, token),
        amount: whole(amount, decimalsOf(world, token)),
      }),
      callTx(from, token, DevToken.abi, "transfer", [to, amount], 200_000n),
    );
    return undefined;
  }
  return undefined;
}

// ------------------------------------------------------------------ lending state

type LenderKind = "market" | "lp" | "share" | "vp";

type Position = { collateral: bigint; debt: bigint; maxBorrow: bigint; liquidity: bigint; value: bigint };

async function position(ctx: TaskContext, lender: Address, user: Address): Promise<Position> {
  const c = ctx.chain;
  const [collateral, debt, maxBorrow, liquidity, value] = await Promise.all([
    c.read(lender, LENDER_ABI, "collateralOf", [user]),
    c.read(lender, LENDER_ABI, "debtOf", [user]),
    c.read(lender, LENDER_ABI, "maxBorrow", [user]),
    c.read(lender, LENDER_ABI, "liquidity", []),
    c.read(lender, LENDER_ABI, "collateralValue", [user]),
  ]);
  return { collateral, debt, maxBorrow, liquidity, value };
}

/** Collateral that can leave while the position keeps a 15% margin under the LTV limit. */
function freeCollateral(p: Position): bigint {
  if (p.debt === 0n) return p.collateral;
  if (p.value === 0n) return 0n;
  const keep = (p.debt * 115n * 10_000n * p.collateral) / (100n * ltvBps * p.value) + 1n;
  return p.collateral > keep ? p.collateral - keep : 0n;
}

async function eulerState(ctx: TaskContext, user: Address) {
  const m = ctx.world.victims.eMarket;
  const c = ctx.chain;
  const [collateral, debt, cash] = await Promise.all([
    c.read(m, DonationLiquidationMarket.abi, "collateralOf", [user]),
    c.read(m, DonationLiquidationMarket.abi, "debtOf", [user]),
    c.read(m, DonationLiquidationMarket.abi, "cash", []),
  ]);
  return { collateral, debt, cash, limit: (collateral * 9_500n) / 10_000n };
}

type Lender = { kind: LenderKind; address: Address; collateralToken: Address };

function lenders(w: ScenarioWorld): Lender[] {
  const mature = w.victims.donation[0];
  const out: Lender[] = [
    { kind: "market", address: w.victims.market, collateralToken: w.tokens.coll },
    { kind: "lp", address: w.victims.lpLender, collateralToken: w.pairs.uniColl },
    { kind: "vp", address: w.victims.vpLender, collateralToken: w.victims.curvePool },
  ];
  if (mature) out.push({ kind: "share", address: mature.lender, collateralToken: mature.vault });
  return out;
}

// ------------------------------------------------------------------ deposits / withdrawals

type Option = () => Promise<Step | undefined>;

/** Posting collateral where it can back a borrow (the four lenders, the Euler-like market). */
function collateralOptions(ctx: TaskContext, family: string, user: Address): Option[] {
  const { world } = ctx;
  const opts: Option[] = lenders(world).map((l) => async () => {
    const held = await balanceOf(ctx, l.collateralToken, user);
    const amount = frac(ctx, held, 0.05, 0.6);
    if (amount === 0n) return undefined;
    const call =
      l.kind === "market"
        ? callTx(user, l.address, VulnerableSpotPriceLendingMarket.abi, "deposit", [amount])
        : callTx(user, l.address, LENDER_ABI, "depositCollateral", [amount]);
    return step(
      meta(ctx, family, l.address, "direct", {
        action: "deposit-collateral",
        token: tokenName(world, l.collateralToken),
        amount: whole(amount, decimalsOf(world, l.collateralToken)),
      }),
      call,
    );
  });
  opts.push(async () => {
    const held = await balanceOf(ctx, world.tokens.usd, user);
    const amount = ctx.rng.logBigint(usd(5_000), usd(300_000));
    if (amount > held) return undefined;
    return step(
      meta(ctx, family, world.victims.eMarket, "direct", { action: "deposit", amountUsd: whole(amount, 6) }),
      callTx(user, world.victims.eMarket, DonationLiquidationMarket.abi, "deposit", [amount]),
    );
  });
  return opts;
}

async function depositOptions(ctx: TaskContext, family: string, user: Address): Promise<Option[]> {
  const { world, rng } = ctx;
  const V = world.victims;
  const USD = world.tokens.usd;
  const mature = V.donation[0];
  const usdAmount = () => rng.logBigint(usd(500), usd(300_000));
  const heldUsd = await balanceOf(ctx, USD, user);
  const opts: Option[] = [];
  const usdOpt = (build: (amount: bigint) => Step) => {
    opts.push(async () => {
      const amount = usdAmount();
      return amount <= heldUsd ? build(amount) : undefined;
    });
  };
  usdOpt((a) =>
    step(
      meta(ctx, family, V.shareVault, "direct", { action: "vault-deposit", amountUsd: whole(a, 6) }),
      callTx(user, V.shareVault, ShareVault.abi, "deposit", [a, user]),
    ),
  );
  if (mature) {
    usdOpt((a) =>
      step(
        meta(ctx, family, mature.vault, "direct", { action: "vault-deposit", amountUsd: whole(a, 6) }),
        callTx(user, mature.vault, DonationVault.abi, "deposit", [a, user]),
      ),
    );
  }
  // Lending liquidity: any lender, including the freshly listed ones.
  const supplyTargets = [V.market, V.lpLender, V.vpLender, ...V.donation.map((d) => d.lender)];
  usdOpt((a) => {
    const l = rng.pick(supplyTargets);
    return step(
      meta(ctx, family, l, "direct", { action: "supply", amountUsd: whole(a, 6) }),
      callTx(user, l, LENDER_ABI, "supply", [a]),
    );
  });
  usdOpt((a) => {
    const oneSided = rng.chance(0.3);
    const b = oneSided ? 0n : frac(ctx, a, 0.8, 1.2);
    return step(
      meta(ctx, family, V.curvePool, "direct", {
        action: "add-liquidity",
        usd: whole(a, 6),
        usdx: whole(b, 6),
      }),
      callTx(user, V.curvePool, CurveLikePool.abi, "add_liquidity", [[a, b], 0n]),
    );
  });
  opts.push(async () => {
    const a = usdAmount();
    if (a > heldUsd) return undefined;
    return step(
      meta(ctx, family, null, "direct", { action: "aave-deposit", amountUsd: whole(a, 6) }),
      callTx(user, world.sources.aave, AaveStyleLendingPool.abi, "deposit", [USD, a, user, 0]),
    );
  });
  opts.push(...collateralOptions(ctx, family, user));
  opts.push(async () => {
    const held = await balanceOf(ctx, world.tokens.stk, user);
    let amount = frac(ctx, held, 0.02, 0.4);
    const cap = e18(30);
    if (amount > cap) amount = frac(ctx, cap, 0.5, 1);
    if (amount === 0n || user === world.actors.users[0]) return undefined;
    return step(
      meta(ctx, family, V.minter, "direct", { action: "stake", amountStk: whole(amount, 18) }),
      callTx(user, V.minter, RewardMinter.abi, "stake", [amount]),
    );
  });
  return opts;
}

async function withdrawOptions(
  ctx: TaskContext,
  family: string,
  user: Address,
  all: boolean,
): Promise<Option[]> {
  const { world } = ctx;
  const V = world.victims;
  const mature = V.donation[0];
  const part = (v: bigint) => (all ? v : frac(ctx, v, 0.15, 1));
  // users[0] ("alice") is the fixture's long-term depositor: her deposits stay where they are.
  const longTerm = user === world.actors.users[0];
  const opts: Option[] = [];
  opts.push(async () => {
    if (longTerm) return undefined;
    const [shares, max] = await Promise.all([
      balanceOf(ctx, V.shareVault, user),
      ctx.chain.read(V.shareVault, ShareVault.abi, "maxRedeem", [user]),
    ]);
    const s = part(minBig(shares, max));
    if (s === 0n) return undefined;
    return step(
      meta(ctx, family, V.shareVault, "direct", { action: "vault-redeem", shares: whole(s, 6) }),
      callTx(user, V.shareVault, ShareVault.abi, "redeem", [s, user, user]),
    );
  });
  if (mature) {
    opts.push(async () => {
      const shares = await balanceOf(ctx, mature.vault, user);
      const s = part(shares);
      if (s === 0n) return undefined;
      return step(
        meta(ctx, family, mature.vault, "direct", { action: "vault-redeem", shares: whole(s, 6) }),
        callTx(user, mature.vault, DonationVault.abi, "redeem", [s, user]),
      );
    });
  }
  opts.push(async () => {
    if (longTerm) return undefined;
    const e = await eulerState(ctx, user);
    const free = e.collateral - (e.debt * 10_000n) / 9_000n;
    let w = free > 0n ? part(free) : 0n;
    if (w > e.cash) w = e.cash / 2n;
    if (w <= 0n) return undefined;
    return step(
      meta(ctx, family, V.eMarket, "direct", { action: "withdraw", amountUsd: whole(w, 6) }),
      callTx(user, V.eMarket, DonationLiquidationMarket.abi, "withdraw", [w]),
    );
  });
  for (const l of lenders(world)) {
    opts.push(async () => {
      const p = await position(ctx, l.address, user);
      const w = part(freeCollateral(p));
      if (w === 0n) return undefined;
      const call =
        l.kind === "market"
          ? callTx(user, l.address, VulnerableSpotPriceLendingMarket.abi, "withdraw", [w])
          : callTx(user, l.address, LENDER_ABI, "withdrawCollateral", [w]);
      return step(
        meta(ctx, family, l.address, "direct", {
          action: "withdraw-collateral",
          token: tokenName(world, l.collateralToken),
          amount: whole(w, decimalsOf(world, l.collateralToken)),
        }),
        call,
      );
    });
  }
  opts.push(async () => {
    const lp = await balanceOf(ctx, V.curvePool, user);
    const a = part(lp);
    if (a === 0n) return undefined;
    return step(
      meta(ctx, family, V.curvePool, "direct", { action: "remove-liquidity", lp: whole(a, 18) }),
      callTx(user, V.curvePool, CurveLikePool.abi, "remove_liquidity", [a, [0n, 0n]]),
    );
  });
  opts.push(async () => {
    const shares = await ctx.chain.read(V.minter, RewardMinter.abi, "sharesOf", [user]);
    const s = part(shares);
    if (s === 0n) return undefined;
    return step(
      meta(ctx, family, V.minter, "direct", { action: "unstake", shares: whole(s, 18) }),
      callTx(user, V.minter, RewardMinter.abi, "unstake", [s]),
    );
  });
  opts.push(async () => {
    const a = await balanceOf(ctx, world.sources.aaveToken, user);
    const w = part(a);
    if (w === 0n) return undefined;
    return step(
      meta(ctx, family, null, "direct", { action: "aave-withdraw", amountUsd: whole(w, 6) }),
      callTx(user, world.sources.aave, AaveStyleLendingPool.abi, "withdraw", [world.tokens.usd, w, user]),
    );
  });
  return opts;
}

/** Runs the options in a random order and returns the first that applies. */
async function firstApplicable(ctx: TaskContext, opts: Option[]): Promise<Step | undefined> {
  for (const o of ctx.rng.shuffle(opts)) {
    const s = await o();
    if (s) return s;
  }
  return undefined;
}

export async function* depositTask(ctx: TaskContext): Task {
  const user = yield* leaseOrWait(ctx, ctx.world.actors.users);
  if (!user) return undefined;
  const s = await firstApplicable(ctx, await depositOptions(ctx, "deposit", user));
  if (s) yield s;
  return undefined;
}

export async function* withdrawTask(ctx: TaskContext): Task {
  const user = yield* leaseOrWait(ctx, ctx.world.actors.users);
  if (!user) return undefined;
  const s = await firstApplicable(ctx, await withdrawOptions(ctx, "withdraw", user, false));
  if (s) yield s;
  else {
    // Nothing to withdraw yet: this user deposits instead.
    const d = await firstApplicable(ctx, await depositOptions(ctx, "deposit", user));
    if (d) yield d;
  }
  return undefined;
}

// ------------------------------------------------------------------ borrow / repay

/** Everyday borrows take at most a tenth of what a lender has left, so lenders stay liquid. */
async function borrowStep(ctx: TaskContext, family: string, user: Address, share: [number, number]) {
  const { world } = ctx;
  const opts: Option[] = [];
  for (const l of lenders(world)) {
    opts.push(async () => {
      const p = await position(ctx, l.address, user);
      let amount = frac(ctx, p.maxBorrow, share[0], share[1]);
      const cap = p.liquidity / 10n;
      if (amount > cap) amount = cap;
      if (amount < usd(10)) return undefined;
      return step(
        meta(ctx, family, l.address, "direct", { action: "borrow", amountUsd: whole(amount, 6) }),
        callTx(user, l.address, LENDER_ABI, "borrow", [amount]),
      );
    });
  }
  opts.push(async () => {
    const e = await eulerState(ctx, user);
    const room = e.limit > e.debt ? e.limit - e.debt : 0n;
    let amount = frac(ctx, room, share[0], share[1]);
    if (amount > e.cash / 10n) amount = e.cash / 10n;
    if (amount < usd(10)) return undefined;
    return step(
      meta(ctx, family, world.victims.eMarket, "direct", { action: "borrow", amountUsd: whole(amount, 6) }),
      callTx(user, world.victims.eMarket, DonationLiquidationMarket.abi, "borrow", [amount]),
    );
  });
  return firstApplicable(ctx, opts);
}

async function repayStep(ctx: TaskContext, family: string, user: Address, all: boolean) {
  const { world } = ctx;
  const opts: Option[] = [];
  const held = await balanceOf(ctx, world.tokens.usd, user);
  const target = [
    ...lenders(world).map((l) => ({ address: l.address, abi: LENDER_ABI })),
    { address: world.victims.eMarket, abi: DonationLiquidationMarket.abi },
  ];
  for (const l of target) {
    opts.push(async () => {
      const debt = await ctx.chain.read(l.address, LENDER_ABI, "debtOf", [user]);
      let amount = all ? debt : frac(ctx, debt, 0.2, 1);
      if (amount > held) amount = held;
      if (amount === 0n) return undefined;
      return step(
        meta(ctx, family, l.address, "direct", {
          action: "repay",
          amountUsd: whole(amount, 6),
          full: amount === debt,
        }),
        callTx(user, l.address, l.abi, "repay", [amount]),
      );
    });
  }
  return firstApplicable(ctx, opts);
}

export async function* borrowTask(ctx: TaskContext): Task {
  const user = yield* leaseOrWait(ctx, ctx.world.actors.users);
  if (!user) return undefined;
  let s = await borrowStep(ctx, "borrow", user, [0.1, 0.6]);
  if (!s) {
    // No collateral anywhere: post some first, borrow a few blocks later.
    const d = await firstApplicable(ctx, collateralOptions(ctx, "deposit", user));
    if (!d) return undefined;
    yield d;
    yield wait(ctx.rng.int(1, 4));
    s = await borrowStep(ctx, "borrow", user, [0.1, 0.6]);
  }
  if (s) yield s;
  return undefined;
}

export async function* repayTask(ctx: TaskContext): Task {
  const user = yield* leaseOrWait(ctx, ctx.world.actors.users);
  if (!user) return undefined;
  const s = await repayStep(ctx, "repay", user, false);
  if (s) yield s;
  else {
    const b = await borrowStep(ctx, "borrow", user, [0.1, 0.5]);
    if (b) yield b;
  }
  return undefined;
}

// ------------------------------------------------------------------ large positions

export async function* largePositionTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const F = "large-deposit-withdraw-borrow";
  const V = world.victims;
  const kind = rng.pick(["market", "share-vault", "lp", "donation", "curve", "euler", "minter"] as const);
  const user = yield* leaseOrWait(ctx, kind === "lp" ? world.actors.lpUsers : world.actors.users);
  if (!user) return undefined;
  const USD = world.tokens.usd;
  const big = () => rng.bigint(usd(600_000), usd(3_000_000));
  const pause = () => wait(rng.int(2, 10));
  const m = (victim: Address, params: Record<string, Json>) => meta(ctx, F, victim, "direct", params);

  /** Borrow within the rules from a SimpleCollateralLender-like position, repay later, take collateral back. */
  async function* borrowCycle(
    lender: Address,
    withdraw: (amount: bigint) => Step,
  ): AsyncGenerator<Step | ReturnType<typeof wait>, void, StepResult> {
    const p = await position(ctx, lender, user as Address);
    let amount = frac(ctx, p.maxBorrow, 0.4, 0.9);
    if (amount > (p.liquidity * 35n) / 100n) amount = (p.liquidity * 35n) / 100n;
    if (amount > usd(100)) {
      yield step(
        m(lender, { action: "borrow", amountUsd: whole(amount, 6) }),
        callTx(user as Address, lender, LENDER_ABI, "borrow", [amount]),
      );
      yield pause();
      const debt = await ctx.chain.read(lender, LENDER_ABI, "debtOf", [user as Address]);
      if (debt > 0n) {
        yield step(
          m(lender, { action: "repay", amountUsd: whole(debt, 6), full: true }),
          callTx(user as Address, lender, LENDER_ABI, "repay", [debt]),
        );
      }
      yield wait(rng.int(1, 3));
    }
    const after = await position(ctx, lender, user as Address);
    const free = freeCollateral(after);
    if (free > 0n) yield withdraw(free);
  }

  switch (kind) {
    case "market": {
      const held = await balanceOf(ctx, world.tokens.coll, user);
      const amount = frac(ctx, held, 0.3, 0.9);
      if (amount === 0n) return undefined;
      yield step(
        m(V.market, { action: "deposit-collateral", amountColl: whole(amount, 18) }),
        callTx(user, V.market, VulnerableSpotPriceLendingMarket.abi, "deposit", [amount]),
      );
      yield wait(rng.int(1, 3));
      yield* borrowCycle(V.market, (w) =>
        step(
          m(V.market, { action: "withdraw-collateral", amountColl: whole(w, 18) }),
          callTx(user, V.market, VulnerableSpotPriceLendingMarket.abi, "withdraw", [w]),
        ),
      );
      return undefined;
    }
    case "lp": {
      const held = await balanceOf(ctx, world.pairs.uniColl, user);
      if (held === 0n) return undefined;
      yield step(
        m(V.lpLender, { action: "deposit-collateral", lp: whole(held, 18) }),
        callTx(user, V.lpLender, LENDER_ABI, "depositCollateral", [held]),
      );
      yield wait(rng.int(1, 3));
      yield* borrowCycle(V.lpLender, (w) =>
        step(
          m(V.lpLender, { action: "withdraw-collateral", lp: whole(w, 18) }),
          callTx(user, V.lpLender, LENDER_ABI, "withdrawCollateral", [w]),
        ),
      );
      return undefined;
    }
    case "share-vault": {
      const a = big();
      if ((await balanceOf(ctx, USD, user)) < a) return undefined;
      const held = await balanceOf(ctx, V.shareVault, user);
      yield step(
        m(V.shareVault, { action: "vault-deposit", amountUsd: whole(a, 6) }),
        callTx(user, V.shareVault, ShareVault.abi, "deposit", [a, user]),
      );
      yield pause();
      const [shares, max] = await Promise.all([
        balanceOf(ctx, V.shareVault, user),
        ctx.chain.read(V.shareVault, ShareVault.abi, "maxRedeem", [user]),
      ]);
      // Only what this deposit bought: a long-term holder keeps the rest.
      const s = minBig(shares > held ? shares - held : 0n, max);
      if (s > 0n) {
        yield step(
          m(V.shareVault, { action: "vault-redeem", shares: whole(s, 6) }),
          callTx(user, V.shareVault, ShareVault.abi, "redeem", [s, user, user]),
        );
      }
      return undefined;
    }
    case "donation": {
      const d = V.donation[0];
      if (!d) return undefined;
      const a = big();
      if ((await balanceOf(ctx, USD, user)) < a) return undefined;
      yield step(
        m(d.vault, { action: "vault-deposit", amountUsd: whole(a, 6) }),
        callTx(user, d.vault, DonationVault.abi, "deposit", [a, user]),
      );
      yield wait(1);
      const shares = await balanceOf(ctx, d.vault, user);
      if (shares === 0n) return undefined;
      yield step(
        m(d.lender, { action: "deposit-collateral", shares: whole(shares, 6) }),
        callTx(user, d.lender, LENDER_ABI, "depositCollateral", [shares]),
      );
      yield wait(rng.int(1, 3));
      yield* borrowCycle(d.lender, (w) =>
        step(
          m(d.lender, { action: "withdraw-collateral", shares: whole(w, 6) }),
          callTx(user, d.lender, LENDER_ABI, "withdrawCollateral", [w]),
        ),
      );
      yield wait(1);
      const back = await balanceOf(ctx, d.vault, user);
      if (back > 0n) {
        yield step(
          m(d.vault, { action: "vault-redeem", shares: whole(back, 6) }),
          callTx(user, d.vault, DonationVault.abi, "redeem", [back, user]),
        );
      }
      return undefined;
    }
    case "curve": {
      const a = rng.bigint(usd(200_000), usd(700_000));
      const b = frac(ctx, a, 0.7, 1.3);
      const [hu, hx] = await Promise.all([
        balanceOf(ctx, USD, user),
        balanceOf(ctx, world.tokens.usdx, user),
      ]);
      if (hu < a || hx < b) return undefined;
      yield step(
        m(V.curvePool, { action: "add-liquidity", usd: whole(a, 6), usdx: whole(b, 6) }),
        callTx(user, V.curvePool, CurveLikePool.abi, "add_liquidity", [[a, b], 0n]),
      );
      yield wait(1);
      const lp = await balanceOf(ctx, V.curvePool, user);
      if (lp === 0n) return undefined;
      yield step(
        m(V.vpLender, { action: "deposit-collateral", lp: whole(lp, 18) }),
        callTx(user, V.vpLender, LENDER_ABI, "depositCollateral", [lp]),
      );
      yield wait(rng.int(1, 3));
      yield* borrowCycle(V.vpLender, (w) =>
        step(
          m(V.vpLender, { action: "withdraw-collateral", lp: whole(w, 18) }),
          callTx(user, V.vpLender, LENDER_ABI, "withdrawCollateral", [w]),
        ),
      );
      yield wait(1);
      const back = await balanceOf(ctx, V.curvePool, user);
      if (back > 0n) {
        yield step(
          m(V.curvePool, { action: "remove-liquidity", lp: whole(back, 18) }),
          callTx(user, V.curvePool, CurveLikePool.abi, "remove_liquidity", [back, [0n, 0n]]),
        );
      }
      return undefined;
    }
    case "euler": {
      const a = rng.bigint(usd(800_000), usd(2_500_000));
      if ((await balanceOf(ctx, USD, user)) < a) return undefined;
      yield step(
        m(V.eMarket, { action: "deposit", amountUsd: whole(a, 6) }),
        callTx(user, V.eMarket, DonationLiquidationMarket.abi, "deposit", [a]),
      );
      yield wait(1);
      let e = await eulerState(ctx, user);
      // Self-collateralised leverage, well inside the 95% limit.
      const maxMint = (e.collateral * 9_500n - e.debt * 10_000n) / 500n;
      const lever = frac(ctx, maxMint, 0.1, 0.5);
      if (lever > 0n) {
        yield step(
          m(V.eMarket, { action: "mint", amountUsd: whole(lever, 6) }),
          callTx(user, V.eMarket, DonationLiquidationMarket.abi, "mint", [lever]),
        );
        yield wait(1);
      }
      e = await eulerState(ctx, user);
      let borrow = frac(ctx, e.limit - e.debt, 0.2, 0.6);
      if (borrow > (e.cash * 35n) / 100n) borrow = (e.cash * 35n) / 100n;
      if (borrow > usd(100)) {
        yield step(
          m(V.eMarket, { action: "borrow", amountUsd: whole(borrow, 6) }),
          callTx(user, V.eMarket, DonationLiquidationMarket.abi, "borrow", [borrow]),
        );
        yield pause();
        yield step(
          m(V.eMarket, { action: "repay", amountUsd: whole(borrow, 6), full: true }),
          callTx(user, V.eMarket, DonationLiquidationMarket.abi, "repay", [borrow]),
        );
        yield wait(1);
      }
      if (lever > 0n) {
        yield step(
          m(V.eMarket, { action: "burn", amountUsd: whole(lever, 6) }),
          callTx(user, V.eMarket, DonationLiquidationMarket.abi, "burn", [lever]),
        );
        yield wait(1);
      }
      e = await eulerState(ctx, user);
      const free = e.debt === 0n ? e.collateral : e.collateral - (e.debt * 10_000n) / 9_000n;
      let w = minBig(free, a);
      if (w > e.cash) w = e.cash / 2n;
      if (w > 0n) {
        yield step(
          m(V.eMarket, { action: "withdraw", amountUsd: whole(w, 6) }),
          callTx(user, V.eMarket, DonationLiquidationMarket.abi, "withdraw", [w]),
        );
      }
      return undefined;
    }
    case "minter": {
      if (user === world.actors.users[0]) return undefined;
      const held = await balanceOf(ctx, world.tokens.stk, user);
      let a = frac(ctx, held, 0.5, 1);
      if (a > e18(150)) a = frac(ctx, e18(150), 0.5, 1);
      if (a === 0n) return undefined;
      yield step(
        m(V.minter, { action: "stake", amountStk: whole(a, 18) }),
        callTx(user, V.minter, RewardMinter.abi, "stake", [a]),
      );
      yield pause();
      const pending = await ctx.chain.read(V.minter, RewardMinter.abi, "pendingProfit", [user]);
      if (pending > 0n && rng.chance(0.7)) {
        yield step(m(V.minter, { action: "claim" }), callTx(user, V.minter, RewardMinter.abi, "claim", []));
        yield wait(1);
      }
      const shares = await ctx.chain.read(V.minter, RewardMinter.abi, "sharesOf", [user]);
      if (shares > 0n) {
        yield step(
          m(V.minter, { action: "unstake", shares: whole(shares, 18) }),
          callTx(user, V.minter, RewardMinter.abi, "unstake", [shares]),
        );
      }
      return undefined;
    }
  }
}

// ------------------------------------------------------------------ flash-loan look-alikes

/** Optimal USD input of a buy-here-sell-there round trip between two V2 pools (float math). */
function optimalArb(cheap: PairState, dear: PairState, quote: Address): { amount: bigint; profit: bigint } {
  const [x1, y1] = reservesFor(cheap, quote).map(Number) as [number, number];
  const [x2, y2] = reservesFor(dear, quote).map(Number) as [number, number];
  const f = 0.997;
  const ea = (x1 * y2) / (y2 + f * y1);
  const eb = (f * y1 * x2) / (y2 + f * y1);
  const a = (Math.sqrt(ea * eb * f) - ea) / f;
  if (!(a > 0)) return { amount: 0n, profit: 0n };
  const amount = BigInt(Math.floor(a));
  return { amount, profit: arbOut(cheap, dear, quote, amount) - amount };
}

function arbOut(cheap: PairState, dear: PairState, quote: Address, amount: bigint): bigint {
  const [x1, y1] = reservesFor(cheap, quote);
  const bought = v2AmountOut(amount, x1, y1);
  const [rq, rx] = reservesFor(dear, quote);
  return v2AmountOut(bought, rx, rq);
}

/** Funds the bot's contract for an own-capital run (a plain USD transfer, a benign sample). */
function fundStep(ctx: TaskContext, bot: Address, contract: Address, amount: bigint): Step {
  return step(
    meta(ctx, "transfer", null, "erc20", {
      token: "USD",
      amount: whole(amount, 6),
      purpose: "fund-bot-contract",
    }),
    callTx(bot, ctx.world.tokens.usd, DevToken.abi, "transfer", [contract, amount], 200_000n),
  );
}

export async function* flashArbitrageTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const USD = world.tokens.usd;
  const botEoa = yield* leaseOrWait(
    ctx,
    world.actors.bots.map((b) => b.eoa),
  );
  const bot = world.actors.bots.find((b) => b.eoa === botEoa);
  if (!bot) return undefined;
  const route = rng.pick([
    [world.pairs.uniColl, world.pairs.sushiColl],
    [world.pairs.uniWeth, world.pairs.sushiWeth],
    [world.pairs.stake, world.pairs.sushiStk],
  ] as const);
  const evaluate = async () => {
    const [a, b] = await Promise.all([pairState(ctx, route[0]), pairState(ctx, route[1])]);
    const [cheap, dear] = rawPrice(a, USD) < rawPrice(b, USD) ? [a, b] : [b, a];
    return { cheap, dear, ...optimalArb(cheap, dear, USD) };
  };
  let e = await evaluate();
  if (e.profit < usd(300)) {
    // No gap: someone trades on one venue first (a whale or an ordinary user), then the bot acts.
    const trader = yield* leaseOrWait(
      ctx,
      rng.chance(0.5) ? world.actors.whales : world.actors.users,
      undefined,
      2,
    );
    if (!trader) return undefined;
    const venue = rng.pick(route);
    const pool = pools(world).find((p) => p.kind === "v2" && p.pair === venue);
    if (!pool) return undefined;
    const move = rng.float(0.03, 0.2);
    const s = await plannedSwap(ctx, pool, move, trader);
    if (!s) return undefined;
    yield await swapStep(ctx, move >= 0.1 ? "whale-swap" : "swap", trader, pool, s.tokenIn, s.amountIn, {
      targetMove: round3(move),
    });
    e = await evaluate();
    if (e.profit < usd(300)) return undefined;
  }
  const lockedV2 = route.includes(world.sources.v2);
  let funding = rng.pick(FUNDING_NAMES.filter((f) => !(lockedV2 && f === "uniswap-v2-flash-swap")));
  let amount = frac(ctx, e.amount, 0.35, 1);
  const fee = (a: bigint, f: FundingName) => (a * FEE_BPS[f]) / 10_000n + 1n;
  const profitAt = (a: bigint) => arbOut(e.cheap, e.dear, USD, a) - a;
  if (profitAt(amount) - fee(amount, funding) < usd(50))
    funding = rng.chance(0.5) ? "balancer-style" : "own-capital";
  if (profitAt(amount) - fee(amount, funding) < usd(50)) amount = e.amount;
  if (profitAt(amount) - fee(amount, funding) < usd(50)) return undefined;
  if (funding === "own-capital") {
    const held = await balanceOf(ctx, USD, bot.arbitrage);
    if (held < amount) {
      yield fundStep(ctx, bot.eoa, bot.arbitrage, amount - held);
      yield wait(1);
    }
  }
  // Dry run at the head, as a bot would, shrinking the size until it pays.
  for (let i = 0; i < 3; i++) {
    const call = encode(MultiSourceArbitrage.abi, "arbitrage", [
      fundingStruct(world, funding, amount),
      route[0],
      route[1],
      1n,
    ]);
    if (await ctx.chain.tryCall(bot.eoa, bot.arbitrage, call)) {
      yield step(
        meta(
          ctx,
          "flash-arbitrage",
          null,
          funding === "own-capital" ? "own-capital" : "flash",
          {
            route: route.map((r) => pools(world).find((p) => p.kind === "v2" && p.pair === r)?.name ?? r),
            amountUsd: whole(amount, 6),
          },
          funding,
        ),
        { from: bot.eoa, to: bot.arbitrage, data: call, gas: GAS.heavy },
      );
      return undefined;
    }
    amount /= 2n;
  }
  return undefined;
}

export async function* flashLiquidationTask(ctx: TaskContext): Task {
  const { world } = ctx;
  const USD = world.tokens.usd;
  const borrower = yield* leaseOrWait(ctx, world.actors.lpUsers);
  if (!borrower) return undefined;
  const whale = yield* leaseOrWait(ctx, world.actors.whales);
  if (!whale) return undefined;
  const botEoa = yield* leaseOrWait(
    ctx,
    world.actors.bots.map((b) => b.eoa),
  );
  const bot = world.actors.bots.find((b) => b.eoa === botEoa);
  if (!bot) return undefined;

  // One price crash at a time, starting from (near) the pool's usual price.
  for (let i = 0; i < 4 && ctx.state.liquidationStoryline; i++) yield wait(3);
  if (ctx.state.liquidationStoryline) return undefined;
  {
    const st = await pairState(ctx, world.pairs.uniColl);
    const ref = ctx.state.referencePrices.get(world.pairs.uniColl) ?? 1;
    if (rawPrice(st, USD) < ref * 0.85) return undefined;
  }
  ctx.state.liquidationStoryline = true;
  try {
    return yield* liquidationStory(ctx, borrower, whale, bot);
  } finally {
    // Also when the runner stops the storyline early.
    ctx.state.liquidationStoryline = false;
  }
}

/** The storyline itself: position, multi-block price fall, flash liquidation, recovery, exit. */
async function* liquidationStory(ctx: TaskContext, borrower: Address, whale: Address, bot: Bot): Task {
  const { world, rng } = ctx;
  const V = world.victims;
  const USD = world.tokens.usd;
  // 1. The borrower posts LP (topped up by a transfer if they have little) and borrows ~72% of its value.
  let lp = await balanceOf(ctx, world.pairs.uniColl, borrower);
  const supply = await ctx.chain.read(world.pairs.uniColl, UniswapV2Pair.abi, "totalSupply", []);
  if (lp < supply / 40n) {
    const top = frac(ctx, supply, 0.03, 0.06);
    const treasury = await balanceOf(ctx, world.pairs.uniColl, world.deployer);
    if (treasury > top) {
      yield step(
        meta(ctx, "transfer", null, "erc20", { token: "UNI-LP", amount: whole(top, 18) }),
        callTx(world.deployer, world.pairs.uniColl, UniswapV2Pair.abi, "transfer", [borrower, top], 200_000n),
      );
      lp += top;
    }
  }
  if (lp === 0n) return undefined;
  yield step(
    meta(ctx, "deposit", V.lpLender, "direct", {
      action: "deposit-collateral",
      token: "UNI-LP",
      amount: whole(lp, 18),
    }),
    callTx(borrower, V.lpLender, LENDER_ABI, "depositCollateral", [lp]),
  );
  let p = await position(ctx, V.lpLender, borrower);
  const target = (p.value * BigInt(rng.int(7_000, 7_400))) / 10_000n;
  const borrow = target > p.debt ? target - p.debt : 0n;
  if (borrow < usd(1_000) || borrow > p.liquidity / 2n) return undefined;
  yield step(
    meta(ctx, "borrow", V.lpLender, "direct", { action: "borrow", amountUsd: whole(borrow, 6) }),
    callTx(borrower, V.lpLender, LENDER_ABI, "borrow", [borrow]),
  );
  yield wait(rng.int(1, 3));

  // 2. COLL falls over several blocks: the whale sells into the pair the lender prices from.
  const pool = pools(world).find((x) => x.kind === "v2" && x.pair === world.pairs.uniColl) as Pool;
  let sells = 0;
  for (; sells < 10; sells++) {
    if (await ctx.chain.read(V.lpLender, LENDER_ABI, "isLiquidatable", [borrower])) break;
    const st = await pairState(ctx, world.pairs.uniColl);
    const [rColl] = reservesFor(st, world.tokens.coll);
    const move = rng.float(0.08, 0.18);
    const amountIn =
      (((rColl * BigInt(Math.round((1 / Math.sqrt(1 - move) - 1) * 1e9))) / 1_000_000_000n) * 1000n) / 997n;
    if (amountIn > (await balanceOf(ctx, world.tokens.coll, whale))) break;
    yield await swapStep(ctx, move >= 0.1 ? "whale-swap" : "swap", whale, pool, world.tokens.coll, amountIn, {
      targetMove: -round3(move),
    });
    yield wait(rng.int(1, 2));
  }
  // 3. A bot liquidates with borrowed money (or its own), sized by a dry run.
  if (await ctx.chain.read(V.lpLender, LENDER_ABI, "isLiquidatable", [borrower])) {
    p = await position(ctx, V.lpLender, borrower);
    const funding = rng.pick(FUNDING_NAMES);
    for (const share of [rng.float(0.35, 0.6), 0.25, 0.12]) {
      const repay = (p.debt * BigInt(Math.floor(share * 1e6))) / 1_000_000n;
      if (funding === "own-capital") {
        const held = await balanceOf(ctx, USD, bot.liquidator);
        if (held < repay) {
          yield fundStep(ctx, bot.eoa, bot.liquidator, repay - held);
          yield wait(1);
          if (!(await ctx.chain.read(V.lpLender, LENDER_ABI, "isLiquidatable", [borrower]))) break;
        }
      }
      const call = encode(FlashLiquidator.abi, "liquidate", [
        fundingStruct(world, funding, repay),
        V.lpLender,
        borrower,
        repay,
        1n,
      ]);
      if (await ctx.chain.tryCall(bot.eoa, bot.liquidator, call)) {
        yield step(
          meta(
            ctx,
            "flash-liquidation",
            V.lpLender,
            funding === "own-capital" ? "own-capital" : "flash",
            { repayUsd: whole(repay, 6), sellsBefore: sells },
            funding,
          ),
          { from: bot.eoa, to: bot.liquidator, data: call, gas: GAS.heavy },
        );
        break;
      }
    }
  }
  // 4. Buyers come back over a few blocks (the price recovers); the borrower repays and leaves.
  for (let k = rng.int(2, 4); k > 0; k--) {
    yield wait(rng.int(1, 3));
    const st = await pairState(ctx, world.pairs.uniColl);
    const ref = ctx.state.referencePrices.get(world.pairs.uniColl) ?? 1;
    const now = rawPrice(st, USD);
    if (now > ref * 0.97) break;
    // Spread what is left of the recovery over the remaining buys, at most +35% each.
    const move = Math.min((ref / now) ** (1 / k) - 1, 0.35) * rng.float(0.9, 1.05);
    const [rUsd] = reservesFor(st, USD);
    yield await swapStep(
      ctx,
      move >= 0.1 ? "whale-swap" : "swap",
      whale,
      pool,
      USD,
      inputForMove(rUsd, move),
      {
        targetMove: round3(move),
      },
    );
  }
  yield wait(rng.int(1, 4));
  const r = await repayStep(ctx, "repay", borrower, true);
  if (r) {
    yield r;
    yield wait(1);
  }
  p = await position(ctx, V.lpLender, borrower);
  const free = freeCollateral(p);
  if (free > 0n) {
    yield step(
      meta(ctx, "withdraw", V.lpLender, "direct", {
        action: "withdraw-collateral",
        token: "UNI-LP",
        amount: whole(free, 18),
      }),
      callTx(borrower, V.lpLender, LENDER_ABI, "withdrawCollateral", [free]),
    );
  }
  return undefined;
}

// ------------------------------------------------------------------ keepers, routers, deployments

export async function* oracleUpdateTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const keeper = yield* leaseOrWait(ctx, world.actors.keepers);
  if (!keeper) return undefined;
  const pairs = rng.shuffle(Object.values(world.pairs)).slice(0, rng.int(1, 5));
  yield step(
    meta(ctx, "oracle-update", null, "keeper", { pairs: pairs.length }),
    callTx(keeper, world.infra.twap, TwapOracle.abi, "update", [pairs]),
  );
  return undefined;
}

export async function* rewardClaimTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const V = world.victims;
  if (rng.chance(0.55)) {
    const user = yield* leaseOrWait(ctx, world.actors.users, async (u) => {
      return (await ctx.chain.read(V.minter, RewardMinter.abi, "pendingProfit", [u])) > 0n;
    });
    if (user) {
      yield step(
        meta(ctx, "reward-claim", V.minter, "direct", { action: "claim" }),
        callTx(user, V.minter, RewardMinter.abi, "claim", []),
      );
      return undefined;
    }
  }
  const keeper = yield* leaseOrWait(ctx, world.actors.keepers);
  if (!keeper) return undefined;
  const amount = rng.logBigint(e18(1) / 2n, e18(25));
  if ((await balanceOf(ctx, world.tokens.stk, keeper)) < amount) return undefined;
  yield step(
    meta(ctx, "reward-claim", V.minter, "keeper", {
      action: "distribute-fees",
      amountStk: whole(amount, 18),
    }),
    callTx(keeper, V.minter, RewardMinter.abi, "distributeFees", [amount]),
  );
  return undefined;
}

export async function* routerMulticallTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const whale = rng.chance(0.3);
  const trader = yield* leaseOrWait(ctx, whale ? world.actors.whales : world.actors.users);
  if (!trader) return undefined;
  const calls: `0x${string}`[] = [];
  const spent = new Map<Address, bigint>();
  const names: string[] = [];
  const n = rng.int(2, 5);
  for (let k = 0; k < n * 2 && calls.length < n; k++) {
    const pool = rng.pick(pools(world));
    const move =
      whale && rng.chance(0.3) ? rng.float(0.05, 0.2) : Math.exp(rng.float(Math.log(0.0005), Math.log(0.04)));
    const s = await plannedSwap(ctx, pool, move, trader);
    if (!s) continue;
    const held = (await balanceOf(ctx, s.tokenIn, trader)) - (spent.get(s.tokenIn) ?? 0n);
    if (s.amountIn > held) continue;
    spent.set(s.tokenIn, (spent.get(s.tokenIn) ?? 0n) + s.amountIn);
    names.push(pool.name);
    if (pool.kind === "curve") {
      const i = s.tokenIn === world.tokens.usd ? 0n : 1n;
      calls.push(
        encode(BatchSwapRouter.abi, "exchangeCurve", [pool.pool, i, 1n - i, s.amountIn, 0n, trader]),
      );
    } else {
      calls.push(encode(BatchSwapRouter.abi, "swapExactIn", [pool.pair, s.tokenIn, s.amountIn, 0n, trader]));
    }
  }
  if (calls.length < 2) return undefined;
  const touchesCurve = names.includes("curve USD/USDX");
  yield step(
    meta(ctx, "router-multicall", touchesCurve ? world.victims.curvePool : null, whale ? "whale" : "user", {
      calls: calls.length,
      pools: names,
    }),
    callTx(trader, world.infra.batchRouter, BatchSwapRouter.abi, "multicall", [calls], GAS.heavy),
  );
  return undefined;
}

const SYLLABLES = ["ka", "zu", "mo", "ri", "te", "lan", "vo", "pi", "sha", "nex", "or", "bit"];

export async function* tokenDeployTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const user = yield* leaseOrWait(ctx, world.actors.users);
  if (!user) return undefined;
  const name = `${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}`;
  const symbol = name.slice(0, 4).toUpperCase();
  const supply = rng.logBigint(e18(10_000), e18(10_000_000_000));
  if (rng.chance(0.5)) {
    yield step(
      meta(ctx, "token-deploy", null, "create", { token: symbol, supply: whole(supply, 18) }),
      createTx(user, LaunchToken, [name, symbol, supply, user], GAS.heavy),
    );
    return undefined;
  }
  const quote = rng.logBigint(usd(2_000), usd(250_000));
  const tokenAmount = frac(ctx, supply, 0.2, 0.9);
  yield step(
    meta(ctx, "token-deploy", null, "launcher", {
      token: symbol,
      supply: whole(supply, 18),
      quoteUsd: whole(quote, 6),
    }),
    callTx(
      user,
      world.infra.launcher,
      TokenLauncher.abi,
      "launch",
      [
        name,
        symbol,
        supply,
        rng.pick([world.factories.uni, world.factories.sushi]),
        world.tokens.usd,
        quote,
        tokenAmount,
      ],
      GAS.deploy,
    ),
  );
  return undefined;
}

export async function* contractDeployTask(ctx: TaskContext): Task {
  const { world, rng } = ctx;
  const from = yield* leaseOrWait(ctx, [...world.actors.users, ...world.actors.bots.map((b) => b.eoa)]);
  if (!from) return undefined;
  const which = rng.pick([
    "MultiSourceArbitrage",
    "FlashLiquidator",
    "BatchSwapRouter",
    "SwapRouter",
    "TwapOracle",
  ] as const);
  const tx =
    which === "MultiSourceArbitrage"
      ? createTx(from, MultiSourceArbitrage, [])
      : which === "FlashLiquidator"
        ? createTx(from, FlashLiquidator, [])
        : which === "BatchSwapRouter"
          ? createTx(from, BatchSwapRouter, [])
          : which === "SwapRouter"
            ? createTx(from, SwapRouter, [])
            : createTx(from, TwapOracle, [BigInt(rng.int(60, 3_600))]);
  yield step(meta(ctx, "contract-deploy", null, "create", { contract: which }), tx);
  return undefined;
}
