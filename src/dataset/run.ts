import fs from "node:fs";
import path from "node:path";
import { type Address, type Hex, keccak256, parseGwei, toHex } from "viem";
import { startDevnet } from "../devnet/devnet.ts";
import { type BaselineDeviation, DEFAULT_BASELINE_OPTIONS, NEUTRAL_DEVIATION } from "../features/baseline.ts";
import { extractFeatures } from "../features/extract.ts";
import { createBaselineLearner } from "../features/learner.ts";
import type { FeatureVector } from "../features/types.ts";
import { silentLogger } from "../internal/logger.ts";
import { createForkPool, type ForkPool } from "../simulate/forks.ts";
import { nextBlockContext, simulateTx } from "../simulate/simulate.ts";
import type { Simulation } from "../simulate/types.ts";
import { BLOCK_INTERVAL_SEC, connectDatasetChain, type DatasetChain, type MinedReceipt } from "./chain.ts";
import { ATTACK_FAMILIES, type AttackFamily, BENIGN_WEIGHTS, taskFor } from "./generators.ts";
import { createRng, type Rng } from "./prng.ts";
import {
  type Json,
  pairState,
  rawPrice,
  revertName,
  type SampleKind,
  type SharedState,
  type Step,
  type StepResult,
  type Task,
  type TaskContext,
  type TaskOutcome,
  type Verdict,
} from "./task.ts";
import { deployScenarioWorld, type ScenarioWorld } from "./world.ts";

/**
 * The dataset runner: a devnet with the scenario world, a pool of forks of it, and a block loop.
 * Each block, due tasks (generators) and newly started ones each yield at most one transaction;
 * every transaction that is a sample is simulated on a fork at the head, exactly as the daemon
 * simulates a pending transaction (next-block context, every victim protected), its features
 * extracted, and one JSON line written; then benign traffic and attack preparation are sent and
 * mined together as the next block, so prices move over blocks and positions build up. Attack
 * exploits are simulated only. The same seed gives the same blocks, samples and features.
 */

export type DatasetOptions = {
  seed: number;
  attacks: number;
  benign: number;
  /** JSON-lines output file; none: samples are only counted. */
  out?: string;
  forks?: number;
  /** Progress on stderr every this many samples (0: never). */
  progressEvery?: number;
  progress?: (line: string) => void;
  /** Stops the run at the next block (its Anvils are stopped, the partial output removed). */
  signal?: AbortSignal;
  /** Diagnostics: every attack attempt that was not written, with its parameters. */
  onSkip?: (info: { family: string; reason: string; params: Record<string, Json>; block: number }) => void;
};

export type SampleLine = {
  id: string;
  seed: number;
  family: string;
  kind: SampleKind;
  label: 0 | 1;
  victim: string | null;
  victimAddress: Address | null;
  funding: string | null;
  shape: string | null;
  params: Record<string, Json>;
  block: number;
  from: Address;
  to: Address | null;
  features: FeatureVector;
  /** The victims' own history compared with this transaction (features/baseline.ts), as the daemon would. */
  baseline: Omit<BaselineDeviation, "evidence">;
  simulation: { success: boolean; gasUsed: number; durationMs: number; error?: string };
};

export type FamilySummary = {
  kind: "attack" | "benign" | "attack-prep";
  /** Lines written. */
  n: number;
  /** Lines whose simulation succeeded. */
  simulatedOk: number;
  /** Benign lines whose simulation reverted (written: a reverted benign tx is still benign). */
  reverted: number;
  /** Attack attempts not written, by reason (reverted, not profitable, ...). */
  skipped: number;
  skipReasons: Record<string, number>;
  /** Mined transactions that reverted on chain (their block differed from the simulation's head). */
  minedReverted: number;
};

export type DatasetSummary = {
  seed: number;
  out: string | null;
  samples: number;
  byKind: Record<SampleKind, number>;
  attackAttempts: number;
  families: Record<string, FamilySummary>;
  blocks: number;
  minedTransactions: number;
  wallTimeSec: number;
  setupSec: number;
  samplesPerSec: number;
  forks: number;
};

type Running = {
  id: number;
  family: string;
  attack: boolean;
  gen: Task;
  resumeAt: bigint;
  result: StepResult;
  leases: Address[];
  attackWritten: boolean;
  lastSkip: string | undefined;
};

const EMPTY: StepResult = { receipt: undefined, simSuccess: undefined, emitted: false, verdict: undefined };

/** Samples per benign task on average (storylines write several), for interleaving. */
const BENIGN_PER_TASK = 1.8;
const BLOCK_FILL: readonly (readonly [number, number])[] = [
  [1, 0.12],
  [2, 0.22],
  [3, 0.26],
  [4, 0.22],
  [5, 0.18],
];

export async function runDataset(options: DatasetOptions): Promise<DatasetSummary> {
  const started = performance.now();
  const say = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
  let pool: ForkPool | undefined;
  let outFd: number | undefined;
  const tmp = options.out ? `${options.out}.partial` : undefined;
  try {
    const chain = await connectDatasetChain(net.anvil.rpcUrl, { blockGasLimit: 1_000_000_000n });
    const world = await deployScenarioWorld(chain, net.deployment);
    pool = await createForkPool({
      upstreamUrl: net.anvil.rpcUrl,
      size: options.forks ?? 2,
      logger: silentLogger(),
    });
    if (options.out && tmp) {
      fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
      outFd = fs.openSync(tmp, "w");
    }
    const setupSec = (performance.now() - started) / 1000;
    const fd = outFd;
    const summary = await loop({
      options,
      chain,
      world,
      pool,
      write: (line) => {
        if (fd !== undefined) fs.writeSync(fd, `${JSON.stringify(line)}\n`);
      },
      say,
    });
    if (outFd !== undefined && tmp && options.out) {
      fs.closeSync(outFd);
      outFd = undefined;
      fs.renameSync(tmp, options.out);
    }
    const wall = (performance.now() - started) / 1000;
    return {
      ...summary,
      seed: options.seed,
      out: options.out ?? null,
      wallTimeSec: round(wall, 1),
      setupSec: round(setupSec, 1),
      samplesPerSec: round(summary.samples / Math.max(wall - setupSec, 0.001), 1),
      forks: options.forks ?? 2,
    };
  } finally {
    if (outFd !== undefined) {
      fs.closeSync(outFd);
      if (tmp) fs.rmSync(tmp, { force: true }); // a run that did not finish leaves no partial file
    }
    await pool?.stop();
    await net.stop();
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

type LoopArgs = {
  options: DatasetOptions;
  chain: DatasetChain;
  world: ScenarioWorld;
  pool: ForkPool;
  write: (line: SampleLine) => void;
  say: (line: string) => void;
};

async function loop(args: LoopArgs) {
  const { options, chain, world, pool, write, say } = args;
  const master = createRng(options.seed);
  const schedule = master.fork("schedule");
  const protectedAddresses = world.victimList.map((v) => v.address);
  // Each victim's history is learned from what is mined, as the daemon learns from new blocks.
  const learner = createBaselineLearner({
    upstream: chain.rpc,
    protectedAddresses,
    warmBlocks: 0,
    baseline: DEFAULT_BASELINE_OPTIONS,
    tracesPerHead: Number.POSITIVE_INFINITY, // blocks are small here, and history must be complete
    logger: silentLogger(),
  });
  await learner.warm(chain.head().number);
  const state: SharedState = {
    attackContracts: new Map(),
    cloneRunners: new Map(),
    takenDonationMarkets: new Set(),
    takenEulerMarkets: new Set(),
    referencePrices: new Map(),
    token0: new Map(),
    liquidationStoryline: false,
  };
  const families = new Map<string, FamilySummary>();
  const fam = (name: string, kind: FamilySummary["kind"]): FamilySummary => {
    const key = kind === "attack-prep" ? `${name}/prep` : name;
    let f = families.get(key);
    if (!f) {
      f = { kind, n: 0, simulatedOk: 0, reverted: 0, skipped: 0, skipReasons: {}, minedReverted: 0 };
      families.set(key, f);
    }
    return f;
  };
  const skip = (family: string, reason: string) => {
    const f = fam(family, "attack");
    f.skipped++;
    f.skipReasons[reason] = (f.skipReasons[reason] ?? 0) + 1;
  };

  const busy = new Map<string, number>();
  const active: Running[] = [];
  let nextTaskId = 0;
  let lines = 0;
  const byKind: Record<SampleKind, number> = { attack: 0, benign: 0, "attack-prep": 0 };
  const attackInFlight = new Map<AttackFamily, number>();
  const attackWritten = new Map<AttackFamily, number>();
  let attackAttempts = 0;
  const maxAttempts = options.attacks * 2 + 20;
  // A family whose attempts keep failing stops being drawn; the others fill its share.
  const attemptsByFamily = new Map<AttackFamily, number>();
  const familyCap = Math.ceil(options.attacks / ATTACK_FAMILIES.length) * 2 + 5;
  const drawableFamilies = () => ATTACK_FAMILIES.filter((f) => (attemptsByFamily.get(f) ?? 0) < familyCap);
  let blocks = 0;
  let mined = 0;
  const loopStart = performance.now();
  const every = options.progressEvery ?? 250;
  let nextProgress = every;

  const finish = (t: Running, outcome: TaskOutcome) => {
    for (const a of t.leases) busy.delete(a.toLowerCase());
    const i = active.indexOf(t);
    if (i >= 0) active.splice(i, 1);
    if (t.attack) {
      const f = t.family as AttackFamily;
      attackInFlight.set(f, (attackInFlight.get(f) ?? 1) - 1);
      if (!t.attackWritten) skip(t.family, t.lastSkip ?? outcome?.skipped ?? "ended without an exploit");
    }
  };

  const contextFor = (t: Running, rng: Rng): TaskContext => ({
    world,
    chain,
    rng,
    state,
    head: () => chain.head().number,
    async lease(candidates, accept) {
      for (const a of rng.shuffle(candidates)) {
        if (busy.has(a.toLowerCase())) continue;
        if (accept && !(await accept(a))) continue;
        busy.set(a.toLowerCase(), t.id);
        t.leases.push(a);
        return a;
      }
      return undefined;
    },
  });

  const start = (family: string, attack: boolean): Running => {
    const id = nextTaskId++;
    const rng = master.fork(`task/${id}`);
    const t: Running = {
      id,
      family,
      attack,
      gen: undefined as unknown as Task,
      resumeAt: 0n,
      result: EMPTY,
      leases: [],
      attackWritten: false,
      lastSkip: undefined,
    };
    t.gen = taskFor(family)(contextFor(t, rng));
    active.push(t);
    if (attack) {
      attackAttempts++;
      attemptsByFamily.set(family as AttackFamily, (attemptsByFamily.get(family as AttackFamily) ?? 0) + 1);
      attackInFlight.set(family as AttackFamily, (attackInFlight.get(family as AttackFamily) ?? 0) + 1);
    }
    return t;
  };

  const attacksReserved = () =>
    ATTACK_FAMILIES.reduce((s, f) => s + (attackWritten.get(f) ?? 0) + (attackInFlight.get(f) ?? 0), 0);
  const canStartAttack = () =>
    attacksReserved() < options.attacks && attackAttempts < maxAttempts && drawableFamilies().length > 0;

  // Reference prices for whales trading back toward them.
  for (const pair of Object.values(world.pairs)) {
    state.referencePrices.set(pair, rawPrice(await pairState({ chain, state }, pair), world.tokens.usd));
  }

  const maxBlocks = (options.attacks + options.benign) * 4 + 200;
  while (blocks < maxBlocks) {
    options.signal?.throwIfAborted();
    const head = chain.head();
    pool.advance(head.number);
    const benignLeft = () => options.benign - byKind.benign;
    if (benignLeft() <= 0) {
      // Benign quota met: storylines stop here.
      for (const t of [...active]) {
        if (t.attack) continue;
        await t.gen.return(undefined);
        finish(t, undefined);
      }
    }
    if (active.length === 0 && !canStartAttack() && benignLeft() <= 0) break;

    // 1. Tasks that are due yield their next step (in task order: deterministic).
    const planned: { t: Running; step: Step }[] = [];
    const advance = async (t: Running) => {
      for (;;) {
        const r = await t.gen.next(t.result);
        t.result = EMPTY;
        if (r.done) {
          finish(t, r.value);
          return;
        }
        if (r.value.type === "wait") {
          t.resumeAt = head.number + BigInt(r.value.blocks);
          return;
        }
        planned.push({ t, step: r.value });
        t.resumeAt = head.number + 1n;
        return;
      }
    };
    for (const t of [...active].sort((a, b) => a.id - b.id)) {
      if (t.resumeAt <= head.number) await advance(t);
    }
    // 2. New tasks fill the block.
    let fill = schedule.weighted(BLOCK_FILL) - planned.length;
    let benignPlanned = planned.filter((p) => p.step.sample?.kind === "benign").length;
    while (fill > 0) {
      const attackRoom = canStartAttack() ? options.attacks - attacksReserved() : 0;
      const benignRoom = Math.max(0, benignLeft() - benignPlanned);
      if (attackRoom <= 0 && benignRoom <= 0) break;
      const pAttack = attackRoom / (attackRoom + benignRoom / BENIGN_PER_TASK);
      fill--;
      if (schedule.chance(pAttack)) {
        const drawable = drawableFamilies();
        const counts = drawable.map((f) => (attackWritten.get(f) ?? 0) + (attackInFlight.get(f) ?? 0));
        const min = Math.min(...counts);
        const family = schedule.pick(drawable.filter((_, i) => counts[i] === min));
        await advance(start(family, true));
      } else {
        await advance(start(schedule.weighted(BENIGN_WEIGHTS), false));
      }
      benignPlanned = planned.filter((p) => p.step.sample?.kind === "benign").length;
    }
    // Benign steps over the quota are dropped with their task.
    let benignBudget = benignLeft();
    for (const p of [...planned]) {
      if (p.step.sample?.kind !== "benign") continue;
      if (benignBudget > 0) {
        benignBudget--;
        continue;
      }
      planned.splice(planned.indexOf(p), 1);
      if (active.includes(p.t)) {
        await p.t.gen.return(undefined);
        finish(p.t, undefined);
      }
    }

    // 3. Simulate every sample on a fork at the head, as the daemon would.
    const ctx = nextBlockContext(head, Number(head.timestamp + BLOCK_INTERVAL_SEC));
    const sims = await Promise.all(
      planned.map(async ({ step: s }) => {
        if (!s.sample) return undefined;
        const nonce = await chain.nonce(s.tx.from);
        const fork = await pool.acquire();
        try {
          return await simulateTx(
            fork,
            {
              hash: keccak256(toHex(`${options.seed}/${s.tx.from}/${nonce}/${s.tx.data.slice(0, 74)}`)),
              from: s.tx.from,
              to: s.tx.to,
              nonce,
              input: s.tx.data,
              value: s.tx.value ?? 0n,
              gas: s.tx.gas,
              gasPrice: undefined,
              maxFeePerGas: (head.baseFeePerGas ?? 0n) * 2n + parseGwei("1"),
              maxPriorityFeePerGas: parseGwei("1"),
              type: "0x2",
              chainId: chain.chainId,
              seenAt: 0,
            },
            ctx,
            { protectedAddresses, gasCap: 30_000_000n },
          );
        } finally {
          pool.release(fork);
        }
      }),
    );

    // 4. Judge, write, and collect what gets mined.
    const results: StepResult[] = [];
    for (const [i, { t, step: s }] of planned.entries()) {
      const sim = sims[i] as Simulation | undefined;
      const meta = s.sample;
      let emitted = false;
      let verdict: Verdict | undefined;
      if (meta && sim) {
        if (meta.verify) {
          verdict = meta.verify(sim);
          if (!verdict.ok) {
            t.lastSkip = verdict.reason;
            options.onSkip?.({
              family: meta.family,
              reason: verdict.reason,
              params: { ...meta.params, shape: meta.shape, funding: meta.funding, error: sim.error ?? null },
              block: Number(ctx.number),
            });
          }
        }
        if (!verdict || verdict.ok) {
          emitted = true;
          const f = fam(meta.family, meta.kind);
          f.n++;
          if (sim.success) f.simulatedOk++;
          else if (meta.kind !== "attack") f.reverted++;
          byKind[meta.kind]++;
          if (meta.kind === "attack") {
            t.attackWritten = true;
            attackWritten.set(
              meta.family as AttackFamily,
              (attackWritten.get(meta.family as AttackFamily) ?? 0) + 1,
            );
          }
          const extra = verdict?.ok ? verdict.detail : {};
          write({
            id: `${options.seed}-${String(lines).padStart(5, "0")}`,
            seed: options.seed,
            family: meta.family,
            kind: meta.kind,
            label: meta.kind === "attack" ? 1 : 0,
            victim: meta.victim?.name ?? null,
            victimAddress: meta.victim?.address ?? null,
            funding: meta.funding,
            shape: meta.shape,
            params: { ...meta.params, ...extra },
            block: Number(ctx.number),
            from: s.tx.from,
            to: s.tx.to,
            ...(() => {
              const f = extractFeatures(sim, s.tx.from, learner.baseline);
              const { evidence: _, ...baseline } = f.baseline ?? NEUTRAL_DEVIATION;
              return { features: f.vector, baseline };
            })(),
            simulation: {
              success: sim.success,
              gasUsed: Number(sim.gasUsed),
              durationMs: round(sim.durationMs, 1),
              ...(sim.success ? {} : { error: revertName(sim) }),
            },
          });
          lines++;
        }
      }
      results.push({ receipt: undefined, simSuccess: sim?.success, emitted, verdict });
    }
    const toMine = planned.map((p, i) => ({ p, i })).filter(({ p }) => p.step.mine);
    const hashes = await chain.send(toMine.map(({ p }) => p.step.tx));
    const { head: minedHead, receipts } = await chain.mine();
    await learner.sync(minedHead.number);
    blocks++;
    mined += hashes.length;
    for (const [j, { p, i }] of toMine.entries()) {
      const r = receipts.get(hashes[j] as Hex) as MinedReceipt | undefined;
      (results[i] as StepResult).receipt = r;
      if (p.step.sample && r?.status !== "success")
        fam(p.step.sample.family, p.step.sample.kind).minedReverted++;
    }
    for (const [i, { t }] of planned.entries()) t.result = results[i] as StepResult;

    if (every > 0 && lines >= nextProgress) {
      nextProgress = lines + every;
      const secs = (performance.now() - loopStart) / 1000;
      const perFamily = [...families.entries()]
        .filter(([, f]) => f.kind !== "attack-prep")
        .map(([k, f]) => `${k} ${f.n}${f.skipped ? `(-${f.skipped})` : ""}`)
        .join(", ");
      say(
        `[dataset] ${lines} samples (attack ${byKind.attack}/${options.attacks}, benign ${byKind.benign}/${options.benign}, prep ${byKind["attack-prep"]}) in ${secs.toFixed(0)} s, ${(lines / secs).toFixed(1)}/s, block ${head.number + 1n}: ${perFamily}`,
      );
    }
  }
  for (const t of [...active]) {
    await t.gen.return(undefined);
    finish(t, undefined);
  }
  const sorted: Record<string, FamilySummary> = {};
  const order = (k: string) => {
    const f = families.get(k) as FamilySummary;
    return `${f.kind === "attack" ? 0 : f.kind === "benign" ? 1 : 2}${k}`;
  };
  for (const k of [...families.keys()].sort((a, b) => order(a).localeCompare(order(b)))) {
    sorted[k] = families.get(k) as FamilySummary;
  }
  return { samples: lines, byKind, attackAttempts, families: sorted, blocks, minedTransactions: mined };
}
