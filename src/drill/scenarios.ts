import { type Account, type Address, encodeDeployData, encodeFunctionData, type Hex, parseUnits } from "viem";
import {
  ConstructorAttacker,
  FlashArbitrageur,
  SpotPriceAttacker,
  SwapRouter,
  VulnerableSpotPriceLendingMarket,
} from "../contracts/generated/artifacts.ts";
import { type Devnet, deployAndMine, execAndMine } from "../devnet/chain.ts";
import type { Deployment } from "../devnet/world.ts";

/** The drill's actors. On the local devnet they are Anvil's dev accounts; with --rpc, keys from the environment. */
export type DrillAccounts = {
  trader: Account;
  whale: Account;
  arbitrageur: Account;
  attacker: Account;
  /** Submits governance's Safe transactions (any funded account). */
  submitter: Account;
  /** Two of the Safe's owners, to lift pauses between attacks. */
  safeOwners: [Account, Account];
};

/** What a scenario needs: the chain (blocks made by someone else), the deployed world, the actors. */
export type DrillContext = {
  devnet: Devnet;
  deployment: Deployment;
  accounts: DrillAccounts;
  /** Contracts deployed by scenarios' preparation, by name. */
  helpers: Map<string, Address>;
};

/** The transaction a scenario plays: who sends it, to what, with which data. */
export type ScenarioTx = { account: Account; to: Address | null; data: Hex; gas: bigint; tipGwei: number };

export type Scenario = {
  name: string;
  kind: "attack" | "benign";
  description: string;
  /** Set-up transactions (mined before the scenario's transaction is sent). */
  prepare?: (ctx: DrillContext) => Promise<void>;
  transaction: (ctx: DrillContext) => Promise<ScenarioTx>;
};

const usd = (n: string) => parseUnits(n, 6);
const coll = (n: string) => parseUnits(n, 18);

async function helper(ctx: DrillContext, name: string, deploy: () => Promise<Address>): Promise<Address> {
  let a = ctx.helpers.get(name);
  if (!a) {
    a = await deploy();
    ctx.helpers.set(name, a);
  }
  return a;
}

const attackerContract = (ctx: DrillContext) =>
  helper(ctx, "SpotPriceAttacker", () =>
    deployAndMine(ctx.devnet, ctx.accounts.attacker, SpotPriceAttacker, []),
  );
const arbContract = (ctx: DrillContext) =>
  helper(ctx, "FlashArbitrageur", () =>
    deployAndMine(ctx.devnet, ctx.accounts.arbitrageur, FlashArbitrageur, []),
  );

const swap = (
  ctx: DrillContext,
  account: Account,
  pair: Address,
  tokenIn: Address,
  amountIn: bigint,
): ScenarioTx => ({
  account,
  to: ctx.deployment.router,
  data: encodeFunctionData({
    abi: SwapRouter.abi,
    functionName: "swapExactIn",
    args: [pair, tokenIn, amountIn, 0n, account.address],
  }),
  gas: 300_000n,
  tipGwei: 2,
});

const market = (
  ctx: DrillContext,
  account: Account,
  functionName: "deposit" | "borrow" | "repay" | "withdraw",
  amount: bigint,
): ScenarioTx => ({
  account,
  to: ctx.deployment.market,
  data: encodeFunctionData({ abi: VulnerableSpotPriceLendingMarket.abi, functionName, args: [amount] }),
  gas: 400_000n,
  tipGwei: 2,
});

/** The spot-price attack through the attacker's contract, funded by `funder` (a lender or a pair). */
async function spotPriceAttack(
  ctx: DrillContext,
  functionName: "attackWithFlashLender" | "attackWithFlashSwap",
  funder: Address,
): Promise<ScenarioTx> {
  return {
    account: ctx.accounts.attacker,
    to: await attackerContract(ctx),
    data: encodeFunctionData({
      abi: SpotPriceAttacker.abi,
      functionName,
      args: [funder, ctx.deployment.market, usd("4000000")],
    }),
    gas: 3_000_000n,
    tipGwei: 25,
  };
}

/** The drill's default programme: benign traffic first, then the attacks (each must be stopped). */
export const DRILL_SCENARIOS: readonly Scenario[] = [
  {
    name: "swap",
    kind: "benign",
    description: "an ordinary 5,000 USD swap into COLL through the market's price pool",
    transaction: async (ctx) =>
      swap(
        ctx,
        ctx.accounts.trader,
        ctx.deployment.uniswap.pricePair,
        ctx.deployment.tokens.usd,
        usd("5000"),
      ),
  },
  {
    name: "deposit",
    kind: "benign",
    description: "a user deposits 50 COLL as collateral",
    transaction: async (ctx) => market(ctx, ctx.accounts.trader, "deposit", coll("50")),
  },
  {
    name: "borrow",
    kind: "benign",
    description: "the same user borrows 20,000 USD against it, within the LTV",
    transaction: async (ctx) => market(ctx, ctx.accounts.trader, "borrow", usd("20000")),
  },
  {
    name: "whale-swap",
    kind: "benign",
    description: "a whale buys COLL with 150,000 USD, moving the price pool ~30%",
    transaction: async (ctx) =>
      swap(
        ctx,
        ctx.accounts.whale,
        ctx.deployment.uniswap.pricePair,
        ctx.deployment.tokens.usd,
        usd("150000"),
      ),
  },
  {
    name: "flash-loan-arbitrage",
    kind: "benign",
    description:
      "an arbitrageur flash-borrows 20,000 USD and trades the gap the whale left between two pools",
    prepare: async (ctx) => {
      await arbContract(ctx);
    },
    transaction: async (ctx) => ({
      account: ctx.accounts.arbitrageur,
      to: await arbContract(ctx),
      data: encodeFunctionData({
        abi: FlashArbitrageur.abi,
        functionName: "arbitrage",
        args: [
          ctx.deployment.flashLender,
          ctx.deployment.tokens.usd,
          ctx.deployment.uniswap.pricePair,
          ctx.deployment.uniswap.arbPair,
          usd("20000"),
          0n,
        ],
      }),
      gas: 600_000n,
      tipGwei: 3,
    }),
  },
  {
    name: "large-deposit",
    kind: "benign",
    description: "a whale deposits 1,000 COLL and borrows 100,000 USD",
    prepare: async (ctx) => {
      const whale = ctx.accounts.whale;
      await sendAndWait(ctx, market(ctx, whale, "deposit", coll("1000")));
    },
    transaction: async (ctx) => market(ctx, ctx.accounts.whale, "borrow", usd("100000")),
  },
  {
    name: "attack-erc3156",
    kind: "attack",
    description: "spot-price collateral attack funded by a 4,000,000 USD ERC-3156 flash loan",
    prepare: async (ctx) => {
      await attackerContract(ctx);
    },
    transaction: (ctx) => spotPriceAttack(ctx, "attackWithFlashLender", ctx.deployment.flashLender),
  },
  {
    name: "attack-v2-flash-swap",
    kind: "attack",
    description: "the same attack funded by a Uniswap V2 flash swap from the USD/WETH pool",
    prepare: async (ctx) => {
      await attackerContract(ctx);
    },
    transaction: (ctx) => spotPriceAttack(ctx, "attackWithFlashSwap", ctx.deployment.uniswap.fundingPair),
  },
  {
    name: "attack-in-constructor",
    kind: "attack",
    description: "the attack runs inside the constructor of a contract the attack transaction deploys",
    transaction: async (ctx) => ({
      account: ctx.accounts.attacker,
      to: null,
      data: encodeDeployData({
        abi: ConstructorAttacker.abi,
        bytecode: ConstructorAttacker.bytecode,
        args: [
          ctx.deployment.flashLender,
          ctx.deployment.market,
          usd("4000000"),
          ctx.accounts.attacker.address,
        ],
      }),
      gas: 5_000_000n,
      tipGwei: 25,
    }),
  },
];

async function sendAndWait(ctx: DrillContext, tx: ScenarioTx): Promise<void> {
  await execAndMine(ctx.devnet, tx.account, { ...(tx.to ? { to: tx.to } : {}), data: tx.data, gas: tx.gas });
}
