import {
  type Abi,
  type Address,
  decodeErrorResult,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  type Hex,
} from "viem";
import * as artifacts from "../contracts/generated/artifacts.ts";
import { DevToken, UniswapV2Pair } from "../contracts/generated/artifacts.ts";
import type { Simulation } from "../simulate/types.ts";
import type { DatasetChain, MinedReceipt, OutgoingTx } from "./chain.ts";
import type { Rng } from "./prng.ts";
import type { ScenarioWorld, Victim } from "./world.ts";

/**
 * What a generator is: a task, written as an async generator that yields the transactions of a
 * scenario one block at a time (and waits between them), receives what happened to each, and
 * reads the chain between steps. The runner interleaves many tasks, simulates every step that is
 * a sample through the daemon's own simulator and feature code, and mines what must be mined.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type SampleKind = "attack" | "benign" | "attack-prep";

export const FUNDING_NAMES = [
  "own-capital",
  "erc3156",
  "uniswap-v2-flash-swap",
  "aave-style",
  "balancer-style",
] as const;
export type FundingName = (typeof FUNDING_NAMES)[number];

/** Did a simulated attack really attack? Decided from the trace, independently of the features. */
export type Verdict = { ok: true; detail: Record<string, Json> } | { ok: false; reason: string };

export type SampleMeta = {
  family: string;
  kind: SampleKind;
  victim: Victim | null;
  funding: FundingName | null;
  shape: string | null;
  params: Record<string, Json>;
  /** Attacks only: judge the simulation; a failed attack is skipped, never labelled. */
  verify?: (sim: Simulation) => Verdict;
};

export type Step = {
  type: "step";
  /** null: world upkeep, mined without being a sample. */
  sample: SampleMeta | null;
  tx: OutgoingTx;
  /** Send and mine after simulating (benign traffic, attack preparation); attacks are not mined. */
  mine: boolean;
};

export type Wait = { type: "wait"; blocks: number };

export type StepResult = {
  receipt: MinedReceipt | undefined;
  /** Whether the simulation succeeded (undefined if not simulated). */
  simSuccess: boolean | undefined;
  /** Whether a line was written for it. */
  emitted: boolean;
  verdict: Verdict | undefined;
};

export type TaskOutcome = { skipped: string } | undefined;

export type Task = AsyncGenerator<Step | Wait, TaskOutcome, StepResult>;

/** State shared by tasks across the run (deterministic: touched in task order). */
export type SharedState = {
  /** Deployed attack contracts that may be reused: `${attacker}:${contract}` -> address. */
  attackContracts: Map<string, Address>;
  /** CloneRunner deployed by each attacker. */
  cloneRunners: Map<Address, Address>;
  /** Fresh donation markets taken by a two-transaction attack (their vault is no longer empty). */
  takenDonationMarkets: Set<number>;
  /** Spare DonationLiquidationMarkets taken by a two-transaction attack. */
  takenEulerMarkets: Set<Address>;
  /** Pool prices at the start of the run, for whales that trade back toward them. */
  referencePrices: Map<Address, number>;
  token0: Map<Address, Address>;
  /** A flash-liquidation storyline (a multi-block price crash) is running. */
  liquidationStoryline: boolean;
};

export type TaskContext = {
  world: ScenarioWorld;
  chain: DatasetChain;
  rng: Rng;
  state: SharedState;
  /** Head block number (the block the next step is simulated on top of). */
  head(): bigint;
  /** Exclusively takes a free actor of `pool` (optionally matching) for this task's lifetime. */
  lease(
    pool: readonly Address[],
    accept?: (a: Address) => boolean | Promise<boolean>,
  ): Promise<Address | undefined>;
};

export type TaskFactory = (ctx: TaskContext) => Task;

// ------------------------------------------------------------------ transactions

export const GAS = { call: 1_500_000n, heavy: 4_000_000n, deploy: 8_000_000n, attack: 25_000_000n } as const;

export function encode(abi: Abi, functionName: string, args: readonly unknown[]): Hex {
  return encodeFunctionData({ abi, functionName, args } as never);
}

export function callTx(
  from: Address,
  to: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
  gas: bigint = GAS.call,
  value = 0n,
): OutgoingTx {
  return { from, to, data: encode(abi, functionName, args), gas, value };
}

export function createTx(
  from: Address,
  artifact: { abi: Abi; bytecode: Hex },
  args: readonly unknown[],
  gas: bigint = GAS.deploy,
): OutgoingTx {
  return {
    from,
    to: null,
    data: encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args } as never),
    gas,
  };
}

export function step(sample: SampleMeta | null, tx: OutgoingTx, mine = true): Step {
  return { type: "step", sample, tx, mine };
}

export function wait(blocks: number): Wait {
  return { type: "wait", blocks: Math.max(1, blocks) };
}

/** Leases an actor, waiting a block at a time (at most `tries` blocks). */
export async function* leaseOrWait(
  ctx: TaskContext,
  pool: readonly Address[],
  accept?: (a: Address) => boolean | Promise<boolean>,
  tries = 6,
): AsyncGenerator<Wait, Address | undefined, StepResult> {
  for (let i = 0; i < tries; i++) {
    const a = await ctx.lease(pool, accept);
    if (a) return a;
    yield wait(1);
  }
  return undefined;
}

// ------------------------------------------------------------------ chain reads

export async function balanceOf(
  ctx: Pick<TaskContext, "chain">,
  token: Address,
  who: Address,
): Promise<bigint> {
  return ctx.chain.read(token, DevToken.abi, "balanceOf", [who]);
}

export type PairState = { pair: Address; token0: Address; r0: bigint; r1: bigint };

export async function pairState(
  ctx: Pick<TaskContext, "chain" | "state">,
  pair: Address,
): Promise<PairState> {
  let token0 = ctx.state.token0.get(pair);
  if (!token0) {
    token0 = getAddress(await ctx.chain.read(pair, UniswapV2Pair.abi, "token0", []));
    ctx.state.token0.set(pair, token0);
  }
  const [r0, r1] = await ctx.chain.read(pair, UniswapV2Pair.abi, "getReserves", []);
  return { pair, token0, r0, r1 };
}

/** [reserve of tokenIn, reserve of the other token]. */
export function reservesFor(p: PairState, tokenIn: Address): [bigint, bigint] {
  return tokenIn === p.token0 ? [p.r0, p.r1] : [p.r1, p.r0];
}

export function v2AmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): bigint {
  if (amountIn <= 0n) return 0n;
  const withFee = amountIn * 997n;
  return (withFee * reserveOut) / (reserveIn * 1000n + withFee);
}

/** Input (in tokenIn units) that moves a constant-product pool's price by `move` (0.2 = 20%). */
export function inputForMove(reserveIn: bigint, move: number): bigint {
  // Buying the other token: price of it rises by (1+move) when reserveIn grows by sqrt(1+move).
  const factor = Math.sqrt(1 + move) - 1;
  return (reserveIn * BigInt(Math.round(factor * 1e9))) / 1_000_000_000n;
}

/** Price of `token`'s pool partner per unit of `token`... as a float of raw reserves (USD per X). */
export function rawPrice(p: PairState, quote: Address): number {
  const [rq, rx] = reservesFor(p, quote);
  return rx === 0n ? 0 : Number((rq * 10n ** 18n) / rx) / 1e18;
}

// ------------------------------------------------------------------ revert reasons

const errorAbi: Abi = (() => {
  const seen = new Set<string>();
  const out: Abi[number][] = [];
  for (const a of Object.values(artifacts) as { abi: Abi }[]) {
    for (const item of a.abi) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(item);
    }
  }
  return out;
})();

/** A short name for why a simulation reverted (custom error name when it can be decoded). */
export function revertName(sim: Simulation): string {
  const out = sim.root.output;
  if (out && out.length >= 10) {
    try {
      return decodeErrorResult({ abi: errorAbi, data: out }).errorName;
    } catch {
      // not one of ours
    }
    if (out.startsWith("0x08c379a0")) {
      try {
        const d = decodeErrorResult({
          abi: [{ type: "error", name: "Error", inputs: [{ type: "string", name: "m" }] }],
          data: out,
        });
        return String(d.args[0]);
      } catch {
        // fall through
      }
    }
  }
  return sim.error ?? "reverted";
}

export function bigJson(v: bigint): string {
  return v.toString();
}
