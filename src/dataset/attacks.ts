import { type Abi, type Address, encodeDeployData, getAddress, type Hex, zeroAddress } from "viem";
import {
  CloneRunner,
  CurveLikeAttacker,
  DevToken,
  DonationLiquidationAttacker,
  DonationLiquidationMarket,
  DonationVault,
  DonationVaultAttacker,
  LpCollateralAttacker,
  OneShotDeployer,
  RewardMinter,
  RewardMinterAttacker,
  ShareVault,
  ShareVaultAttacker,
  SpotOracleAttacker,
} from "../contracts/generated/artifacts.ts";
import { indexTrace } from "../features/trace-index.ts";
import type { Simulation } from "../simulate/types.ts";
import {
  balanceOf,
  callTx,
  createTx,
  encode,
  FUNDING_NAMES,
  type FundingName,
  GAS,
  type Json,
  leaseOrWait,
  pairState,
  reservesFor,
  revertName,
  type SampleMeta,
  step,
  type Task,
  type TaskContext,
  type Verdict,
  v2AmountOut,
  wait,
} from "./task.ts";
import { type ScenarioWorld, usd, type Victim } from "./world.ts";

/**
 * Attack families, one per pattern of shared/attacks.md that the scenario library implements.
 * Each sample draws (seeded) a funding source, amounts inside ranges where the attack pays, and a
 * code shape: plain (an attack contract deployed beforehand, then `execute`), constructor (the
 * whole exploit inside one contract creation, OneShotDeployer), clone (an EIP-1167 clone of a
 * deployed attack contract created and run in the attack transaction, CloneRunner), split
 * (patterns 4, 6, 9: `prepare` mined first, the exploit transaction later). Preparation
 * transactions are mined and written as `attack-prep` samples (label 0); the exploit is only
 * simulated, never mined, so victims stay exploitable. An exploit is labelled only if its
 * simulation succeeded AND it drained: the attacker EOA ended with a real profit and the victim
 * lost value — judged from the trace here, independently of the features.
 */

export const ATTACK_FAMILIES = [
  "spot-oracle",
  "share-vault",
  "lp-collateral",
  "reward-mint",
  "donation-inflation",
  "virtual-price",
  "donation-liquidation",
] as const;
export type AttackFamily = (typeof ATTACK_FAMILIES)[number];

export const ATTACK_PATTERN: Record<AttackFamily, number> = {
  "spot-oracle": 1,
  "share-vault": 3,
  "lp-collateral": 4,
  "reward-mint": 5,
  "donation-inflation": 6,
  "virtual-price": 7,
  "donation-liquidation": 9,
};

type Shape = "plain" | "constructor" | "clone" | "split";

const SPLIT: ReadonlySet<AttackFamily> = new Set([
  "lp-collateral",
  "donation-inflation",
  "donation-liquidation",
]);

/** Smallest profit (USD) for an attack to count as an attack. */
const MIN_PROFIT = usd(50_000);

const ARTIFACT: Record<AttackFamily, { abi: Abi; bytecode: Hex }> = {
  "spot-oracle": SpotOracleAttacker,
  "share-vault": ShareVaultAttacker,
  "lp-collateral": LpCollateralAttacker,
  "reward-mint": RewardMinterAttacker,
  "donation-inflation": DonationVaultAttacker,
  "virtual-price": CurveLikeAttacker,
  "donation-liquidation": DonationLiquidationAttacker,
};

/** Flash-loan fee of each source, in bps (the V2 flash swap's 0.3% rounds up). */
export const FEE_BPS: Record<FundingName, bigint> = {
  "own-capital": 0n,
  erc3156: 5n,
  "uniswap-v2-flash-swap": 31n,
  "aave-style": 9n,
  "balancer-style": 1n,
};

const SOURCE_INDEX: Record<FundingName, number> = {
  "own-capital": 0,
  erc3156: 1,
  "uniswap-v2-flash-swap": 2,
  "aave-style": 3,
  "balancer-style": 4,
};

export function fundingStruct(world: ScenarioWorld, name: FundingName, amount: bigint) {
  const provider: Record<FundingName, Address> = {
    "own-capital": zeroAddress,
    erc3156: world.sources.erc3156,
    "uniswap-v2-flash-swap": world.sources.v2,
    "aave-style": world.sources.aave,
    "balancer-style": world.sources.balancer,
  };
  return { source: SOURCE_INDEX[name], provider: provider[name], token: world.tokens.usd, amount };
}

const whole = (v: bigint, decimals = 6): number => Number(v) / 10 ** decimals;

/** What one attack sample does, before the code shape wraps it. */
type Plan = {
  victim: Victim;
  /** USD the exploit transaction needs (the funding amount). */
  capital: bigint;
  /** Params struct of `execute` (seed fields zeroed when split). */
  params: Record<string, unknown>;
  /** Split only: `prepare` arguments and the own capital it uses. */
  prepare?: { args: readonly unknown[]; capital: bigint };
  /** Tokens OneShotDeployer / CloneRunner forward to the attacker. */
  sweep: Address[];
  /** Human-readable amounts for the JSON line. */
  summary: Record<string, Json>;
  /** Minimum share of the victim's USD that must leave it (0: judged by the minted reward instead). */
  victimLossShare: number;
};

function victimNamed(world: ScenarioWorld, address: Address): Victim {
  const v = world.victimList.find((x) => x.address === address);
  if (!v) throw new Error(`not a victim: ${address}`);
  return v;
}

/** Expected net USD of a pattern-5 attack (integer math of RewardMinter and Uniswap V2). */
function rewardMintNet(
  buy: bigint,
  bps: bigint,
  s: { rU: bigint; rS: bigint; bal: bigint; total: bigint; rRwd: bigint; rRwdUsd: bigint; feeBps: bigint },
): bigint {
  const bought = v2AmountOut(buy, s.rU, s.rS);
  const rU1 = s.rU + buy;
  const rS1 = s.rS - bought;
  const donation = (bought * bps) / 10_000n;
  const staked = bought - donation;
  const shares = s.total === 0n ? staked : (staked * s.total) / s.bal;
  const bal2 = s.bal + staked + donation;
  const t1 = s.total + shares;
  const value = (shares * bal2) / t1;
  if (value <= staked) return -buy;
  const profit = value - staked;
  const burnedRaw = (profit * t1 + bal2 - 1n) / bal2;
  const burned = burnedRaw < shares ? burnedRaw : shares;
  const reward = ((profit * rU1) / rS1) * 10n ** 12n;
  const t2 = t1 - burned;
  const unstaked = t2 === 0n ? 0n : ((shares - burned) * (bal2 - profit)) / t2;
  const usdBack = v2AmountOut(profit + unstaked, rS1, rU1);
  const usdFromReward = v2AmountOut(reward, s.rRwd, s.rRwdUsd);
  return usdBack + usdFromReward - buy - (buy * s.feeBps) / 10_000n;
}

/** (buy, donateBps) pairs expected to clear a comfortable profit on the current state. */
async function rewardMintCandidates(ctx: TaskContext, feeBps: bigint): Promise<[bigint, bigint][]> {
  const { world } = ctx;
  const W = world.victims;
  const [stake, reward, bal, total] = await Promise.all([
    pairState(ctx, world.pairs.stake),
    pairState(ctx, world.pairs.reward),
    balanceOf(ctx, world.tokens.stk, W.minter),
    ctx.chain.read(W.minter, RewardMinter.abi, "totalShares", []),
  ]);
  const [rU, rS] = reservesFor(stake, world.tokens.usd);
  const [rRwd, rRwdUsd] = reservesFor(reward, world.tokens.rwd);
  const state = { rU, rS, bal, total, rRwd, rRwdUsd, feeBps };
  const out: [bigint, bigint][] = [];
  for (let b = 4; b <= 16; b++) {
    for (let bps = 500n; bps <= 3_000n; bps += 250n) {
      const buy = usd(b * 750_000);
      if (rewardMintNet(buy, bps, state) >= usd(100_000)) out.push([buy, bps]);
    }
  }
  return out;
}

async function plan(
  ctx: TaskContext,
  family: AttackFamily,
  split: boolean,
  funding: FundingName,
): Promise<Plan | string> {
  const { world, rng } = ctx;
  const W = world.victims;
  const USD = world.tokens.usd;
  switch (family) {
    case "spot-oracle": {
      const pump = rng.bigint(usd(2_500_000), usd(8_000_000));
      return {
        victim: victimNamed(world, W.market),
        capital: pump,
        params: { market: W.market, pumpAmount: pump },
        sweep: [USD],
        summary: { pumpUsd: whole(pump) },
        victimLossShare: 0.3,
      };
    }
    case "share-vault": {
      // Deposit a multiple of the vault's assets, pump the price pool ~x1.7-2.4, redeem, repeat.
      const [total, idle, pool] = await Promise.all([
        ctx.chain.read(W.shareVault, ShareVault.abi, "totalAssets", []),
        ctx.chain.read(W.shareVault, ShareVault.abi, "idleAssets", []),
        pairState(ctx, world.pairs.vault),
      ]);
      // Only idle cash is paid out: with little of it there is nothing to take.
      if (idle < usd(300_000)) return "victim holds too little idle cash";
      const [poolUsd] = reservesFor(pool, USD);
      let deposit = (total * BigInt(rng.int(1_500, 3_000))) / 1_000n;
      if (deposit < usd(2_000_000)) deposit = usd(2_000_000);
      const pump = (poolUsd * BigInt(rng.int(300, 550))) / 1_000n;
      const rounds = rng.weighted([
        [1n, 0.4],
        [2n, 0.4],
        [3n, 0.2],
      ] as const);
      return {
        victim: victimNamed(world, W.shareVault),
        capital: deposit + pump,
        params: { vault: W.shareVault, depositAmount: deposit, pumpAmount: pump, rounds },
        sweep: [USD, W.shareVault],
        summary: { depositUsd: whole(deposit), pumpUsd: whole(pump), rounds: Number(rounds) },
        victimLossShare: 0.05,
      };
    }
    case "lp-collateral": {
      const seed = rng.bigint(usd(120_000), usd(300_000));
      const pump = rng.bigint(usd(6_000_000), usd(10_000_000));
      const base = {
        victim: victimNamed(world, W.lpLender),
        sweep: [USD],
        summary: { seedUsd: whole(seed), pumpUsd: whole(pump) },
        victimLossShare: 0.3,
      };
      return split
        ? {
            ...base,
            capital: pump,
            params: { lender: W.lpLender, seedAmount: 0n, pumpAmount: pump },
            prepare: { args: [W.lpLender, seed], capital: seed },
          }
        : {
            ...base,
            capital: seed + pump,
            params: { lender: W.lpLender, seedAmount: seed, pumpAmount: pump },
          };
    }
    case "reward-mint": {
      // The attacker's claim is shared with the minter's other stakers, and the reward can only
      // be dumped into the reward pool's depth: size buy and donation on the current state.
      const best = await rewardMintCandidates(ctx, FEE_BPS[funding]);
      if (best.length === 0) return "no profitable parameters";
      const [buy, donateBps] = rng.pick(best);
      return {
        victim: victimNamed(world, W.minter),
        capital: buy,
        params: { minter: W.minter, rewardPool: world.pairs.reward, buyAmount: buy, donateBps },
        sweep: [USD],
        summary: { buyUsd: whole(buy), donateBps: Number(donateBps) },
        victimLossShare: 0,
      };
    }
    case "donation-inflation": {
      // Only an empty, freshly listed vault can be inflated; a split attack occupies one for good.
      const candidates = W.donation.filter((d) => d.fresh && !ctx.state.takenDonationMarkets.has(d.index));
      const empty = [];
      for (const d of candidates) {
        if ((await ctx.chain.read(d.vault, DonationVault.abi, "totalSupply", [])) === 0n) empty.push(d);
      }
      if (empty.length === 0) return "no empty vault left to inflate";
      // A split attack occupies its market for good: keep a few for single-transaction attacks.
      if (split && empty.length < 4) return "too few empty vaults left for a two-transaction attack";
      const m = rng.pick(empty);
      const seed = rng.chance(0.7) ? 2n : 3n;
      const donation =
        seed === 2n ? rng.bigint(usd(2_800_000), usd(5_000_000)) : rng.bigint(usd(4_200_000), usd(6_000_000));
      const base = {
        victim: victimNamed(world, m.lender),
        sweep: [USD],
        summary: { market: m.index, seedWei: Number(seed), donationUsd: whole(donation) },
        victimLossShare: 0.3,
      };
      if (split) ctx.state.takenDonationMarkets.add(m.index);
      return split
        ? {
            ...base,
            capital: donation,
            params: { lender: m.lender, seedAssets: 0n, donation },
            prepare: { args: [m.lender, seed], capital: seed },
          }
        : { ...base, capital: donation + seed, params: { lender: m.lender, seedAssets: seed, donation } };
    }
    case "virtual-price": {
      const liquidity = rng.bigint(usd(150_000), usd(300_000));
      const pump = rng.bigint(usd(14_000_000), usd(25_000_000));
      return {
        victim: victimNamed(world, W.vpLender),
        capital: liquidity + pump,
        params: { lender: W.vpLender, liquidityAmount: liquidity, pumpAmount: pump },
        sweep: [USD],
        summary: { liquidityUsd: whole(liquidity), pumpUsd: whole(pump) },
        victimLossShare: 0.3,
      };
    }
    case "donation-liquidation": {
      // Lever to (nearly) the 95% limit, donate enough to go under water, liquidate from a fresh
      // contract: the fixed 10% bonus leaves the liquidator with other depositors' cash. Sized to
      // the market's cash, as an attacker would. A split attack levers up in its own market.
      let market = W.eMarket;
      if (split) {
        const spare = W.spareEMarkets.find((m) => !ctx.state.takenEulerMarkets.has(m));
        if (!spare) return "no spare market for a two-transaction attack";
        ctx.state.takenEulerMarkets.add(spare);
        market = spare;
      }
      const cash = await ctx.chain.read(market, DonationLiquidationMarket.abi, "cash", []);
      let deposit = (cash * BigInt(rng.int(1_200, 1_800))) / 1_000n;
      if (deposit < usd(1_000_000)) deposit = usd(1_000_000);
      const f = rng.float(0.97, 1);
      const mint = (deposit * 19n * BigInt(Math.floor(f * 1e6))) / 1_000_000n;
      const minDonate = (deposit * BigInt(Math.ceil((1 - f) * 2.5e6))) / 1_000_000n;
      const lo = minDonate > deposit / 4n ? minDonate : deposit / 4n;
      const donate = rng.bigint(lo, lo > (deposit * 3n) / 5n ? lo : (deposit * 3n) / 5n);
      const base = {
        victim: victimNamed(world, market),
        sweep: [USD],
        summary: { depositUsd: whole(deposit), mintUsd: whole(mint), donateUsd: whole(donate) },
        victimLossShare: 0.3,
      };
      if (split) {
        // The exploit needs no new money; some attackers still take a small loan as cover.
        const cover = funding === "own-capital" ? 0n : rng.bigint(usd(10_000), usd(500_000));
        return {
          ...base,
          capital: cover,
          params: { market, depositAmount: 0n, mintAmount: 0n, donateAmount: donate },
          prepare: { args: [market, deposit, mint], capital: deposit },
        };
      }
      return {
        ...base,
        capital: deposit,
        params: { market, depositAmount: deposit, mintAmount: mint, donateAmount: donate },
      };
    }
  }
}

/** USD that the attacker EOA received net in the tx, and what left the victim, from the trace. */
function judge(
  sim: Simulation,
  o: {
    attacker: Address;
    usd: Address;
    rwd: Address;
    victim: Address;
    victimBefore: bigint;
    capitalSpent: bigint;
    victimLossShare: number;
  },
): Verdict {
  if (!sim.success) return { ok: false, reason: `reverted: ${revertName(sim)}` };
  const flows = indexTrace(sim).flows;
  let toAttacker = 0n;
  let victimOut = 0n;
  let rewardMinted = 0n;
  for (const f of flows) {
    if (f.token === o.usd) {
      if (f.to === o.attacker) toAttacker += f.amount;
      if (f.from === o.attacker) toAttacker -= f.amount;
      if (f.from === o.victim) victimOut += f.amount;
      if (f.to === o.victim) victimOut -= f.amount;
    } else if (f.token === o.rwd && f.from === zeroAddress) {
      rewardMinted += f.amount;
    }
  }
  const profit = toAttacker - o.capitalSpent;
  const loss = o.victimBefore > 0n ? Number((victimOut * 1_000_000n) / o.victimBefore) / 1e6 : 0;
  const detail = { profitUsd: whole(profit), victimLossShare: loss, rewardMinted: whole(rewardMinted, 18) };
  if (profit < MIN_PROFIT) return { ok: false, reason: "not profitable" };
  if (o.victimLossShare > 0 && (loss < o.victimLossShare || victimOut < MIN_PROFIT)) {
    return { ok: false, reason: "victim not drained" };
  }
  if (o.victimLossShare === 0 && rewardMinted === 0n) return { ok: false, reason: "no reward minted" };
  return { ok: true, detail };
}

const SHAPES: readonly (readonly [Shape, number])[] = [
  ["plain", 0.4],
  ["constructor", 0.2],
  ["clone", 0.2],
  ["split", 0.2],
];

export function attackTask(family: AttackFamily) {
  return async function* (ctx: TaskContext): Task {
    const { world, rng } = ctx;
    const USD = world.tokens.usd;
    const attacker = yield* leaseOrWait(ctx, world.actors.attackers);
    if (!attacker) return { skipped: "no free attacker" };

    let shape = rng.weighted(SHAPES.filter(([s]) => s !== "split" || SPLIT.has(family)));
    const funding: FundingName =
      shape === "constructor" || shape === "clone"
        ? rng.pick(FUNDING_NAMES.filter((f) => f !== "own-capital"))
        : rng.pick(FUNDING_NAMES);
    let p = await plan(ctx, family, shape === "split", funding);
    if (typeof p === "string" && shape === "split") {
      shape = "plain";
      p = await plan(ctx, family, false, funding);
    }
    if (typeof p === "string") return { skipped: p };
    const P = p;
    const artifact = ARTIFACT[family];
    const meta = (kind: SampleMeta["kind"], params: Record<string, Json>): SampleMeta => ({
      family,
      kind,
      victim: P.victim,
      funding,
      shape,
      params: { pattern: ATTACK_PATTERN[family], ...P.summary, ...params },
    });
    const prepFailed = (r: { receipt?: { status: string } | undefined }) => r.receipt?.status !== "success";

    // Attack contracts: deployed beforehand (plain, split) or the clone's implementation.
    let worker: Address | undefined;
    let runner: Address | undefined;
    let contract: "none" | "fresh" | "reused" = "none";
    if (shape !== "constructor") {
      const key = `${attacker}:${family}:${shape === "clone" ? "implementation" : "worker"}`;
      const cached = ctx.state.attackContracts.get(key);
      if (cached && shape !== "split" && rng.chance(0.5)) {
        worker = cached;
        contract = "reused";
      } else {
        contract = "fresh";
        const r = yield step(
          meta("attack-prep", {
            step: shape === "clone" ? "deploy-implementation" : "deploy-attack-contract",
          }),
          createTx(attacker, artifact, []),
        );
        if (prepFailed(r) || !r.receipt?.contractAddress) return { skipped: "preparation reverted" };
        worker = getAddress(r.receipt.contractAddress);
        if (shape !== "split") ctx.state.attackContracts.set(key, worker);
      }
    }
    if (shape === "clone") {
      runner = rng.chance(0.5) ? world.infra.cloneRunner : ctx.state.cloneRunners.get(attacker);
      if (!runner) {
        const r = yield step(
          meta("attack-prep", { step: "deploy-clone-runner" }),
          createTx(attacker, CloneRunner, []),
        );
        if (prepFailed(r) || !r.receipt?.contractAddress) return { skipped: "preparation reverted" };
        runner = getAddress(r.receipt.contractAddress);
        ctx.state.cloneRunners.set(attacker, runner);
      }
    }

    let capitalSpent = 0n;
    if (shape === "split" && P.prepare && worker) {
      const r1 = yield step(
        meta("attack-prep", { step: "fund", amountUsd: whole(P.prepare.capital) }),
        callTx(attacker, USD, DevToken.abi, "transfer", [worker, P.prepare.capital], 200_000n),
      );
      if (prepFailed(r1)) return { skipped: "preparation reverted" };
      const r2 = yield step(
        meta("attack-prep", { step: "prepare" }),
        callTx(attacker, worker, artifact.abi, "prepare", P.prepare.args, GAS.heavy),
      );
      if (prepFailed(r2)) return { skipped: "preparation reverted" };
      capitalSpent += P.prepare.capital;
      // Preparation and exploitation are blocks apart (other traffic in between).
      yield wait(rng.int(1, 6));
    }
    if (funding === "own-capital" && worker && P.capital > 0n) {
      const held = await balanceOf(ctx, USD, worker);
      if (held < P.capital) {
        const r = yield step(
          meta("attack-prep", { step: "fund", amountUsd: whole(P.capital - held) }),
          callTx(attacker, USD, DevToken.abi, "transfer", [worker, P.capital - held], 200_000n),
        );
        if (prepFailed(r)) return { skipped: "preparation reverted" };
      }
    }

    // The exploit. Flash-funded samples sometimes borrow a little more than they need.
    const amount =
      funding !== "own-capital" && rng.chance(0.3)
        ? (P.capital * BigInt(rng.int(100, 115))) / 100n
        : P.capital;
    const fundingArg = fundingStruct(world, funding, amount);
    const execute = encode(artifact.abi, "execute", [fundingArg, P.params]);
    let tx: { from: Address; to: Address | null; data: Hex; gas: bigint };
    if (shape === "constructor") {
      tx = {
        from: attacker,
        to: null,
        data: encodeDeployData({
          abi: OneShotDeployer.abi,
          bytecode: OneShotDeployer.bytecode,
          args: [artifact.bytecode, execute, P.sweep],
        }),
        gas: GAS.attack,
      };
    } else if (shape === "clone" && runner && worker) {
      tx = callTx(attacker, runner, CloneRunner.abi, "run", [worker, execute, P.sweep], GAS.attack);
    } else if (worker) {
      tx = { from: attacker, to: worker, data: execute, gas: GAS.attack };
    } else {
      return { skipped: "no attack contract" };
    }
    // Whatever USD the worker already held comes back with the sweep: it is capital, not profit.
    if (worker && shape !== "clone") capitalSpent += await balanceOf(ctx, USD, worker);
    const victimBefore = await balanceOf(ctx, USD, P.victim.address);
    const judgeArgs = {
      attacker,
      usd: USD,
      rwd: world.tokens.rwd,
      victim: P.victim.address,
      victimBefore,
      capitalSpent,
      victimLossShare: P.victimLossShare,
    };
    const r = yield step(
      {
        ...meta("attack", { step: "exploit", fundingUsd: whole(amount), attackContract: contract }),
        verify: (sim) => judge(sim, judgeArgs),
      },
      { ...tx, value: 0n },
      false,
    );
    return r.emitted ? undefined : { skipped: r.verdict && !r.verdict.ok ? r.verdict.reason : "not emitted" };
  };
}
