// Latency and throughput benchmark: a devnet (child process: Anvil + local relay, 1 s blocks),
// the daemon (this process, measured), a load generator (child process) sending a realistic mix
// at set rates, and attacks injected at random moments. Per transaction it measures
// seen -> simulated -> scored (-> bundle sent for attacks); per run p50/p95/p99/max, throughput,
// drops, CPU and peak RSS; plus the naive baseline and, optionally, a 30 ms upstream round trip.
//
//   npm run bench:latency -- [--rates 50,200,500,1000] [--duration 20] [--rtt 30] [--rtt-only] [--node-near-ms 5] [--no-naive] [--probe-node] [--pin] [--json]
// --daemon-log prefix keeps each run's daemon log (JSON lines) in prefix.<mode>-<rate>-<rtt>.log.
// --pin runs the daemon and its forks on one core and the rest (devnet, load, this process) on the
// other: the daemon's screening capacity per core of its own, measured rather than inferred.
// VIGIL_BENCH_DEVNET_LOG=file keeps the devnet's info log (each block's build time) in `file`.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type Address,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseEther,
  parseGwei,
  parseUnits,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  DevToken,
  Guardian,
  SpotPriceAttacker,
  VulnerableSpotPriceLendingMarket,
} from "../src/contracts/generated/artifacts.ts";
import { devnetAccount, devnetPrivateKey } from "../src/devnet/accounts.ts";
import {
  connectDevnet,
  type Devnet,
  deployAndMine,
  execAndMine,
  withExternalBlocks,
} from "../src/devnet/chain.ts";
import { execSafeTx, safeCall, safeNonce, signSafeTx } from "../src/devnet/safe.ts";
import type { Deployment } from "../src/devnet/world.ts";
import type { Decided } from "../src/guardian.ts";
import { parseConfig } from "../src/internal/config.ts";
import { freePort } from "../src/internal/ports.ts";
import type { PriorityGateStats } from "../src/internal/priority-gate.ts";
import { createRpc } from "../src/internal/rpc.ts";
import type { DaemonUsage } from "./bench/daemon-host.ts";
import { deployedNodeFlags, type Screened, startDaemonProcess } from "./bench/daemon-process.ts";
import type { LoadgenInput } from "./bench/loadgen.ts";
import { startNodeProbe } from "./bench/node-probe.ts";
import { startRttProxy } from "./bench/rtt-proxy.ts";

type Args = {
  rates: number[];
  duration: number;
  rtt: number;
  naive: boolean;
  rttOnly: boolean;
  /** The guardian's node round trip up to which dangerous calls are screened on the node. */
  nodeNearMs: number | undefined;
  json: boolean;
  senders: number;
  naiveRate: number;
  out: string;
  daemonLog: string | undefined;
  /** Probe the node's answer time at set offsets after each head (see scripts/bench/node-probe.ts). */
  probeNode: boolean;
  /** The daemon (and its forks) on a core of its own, the rest on the other (`--pin`). */
  pin: boolean;
};
function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rates = (get("--rates") ?? "50,200,500,1000").split(",").map(Number);
  if (rates.some((r) => !Number.isFinite(r) || r <= 0))
    throw new Error("--rates must be positive numbers, e.g. 50,200");
  return {
    rates,
    duration: Number(get("--duration") ?? 20),
    rtt: Number(get("--rtt") ?? 30),
    json: argv.includes("--json"),
    // Soak runs (e.g. 10 minutes for memory) need the ladder only, not the side-by-side baseline.
    naive: !argv.includes("--no-naive"),
    /** Only the round-trip run (and the baseline unless --no-naive), not the ladder. */
    rttOnly: argv.includes("--rtt-only"),
    probeNode: argv.includes("--probe-node"),
    nodeNearMs: get("--node-near-ms") === undefined ? undefined : Number(get("--node-near-ms")),
    senders: Number(get("--senders") ?? 48),
    naiveRate: Number(get("--naive-rate") ?? 50),
    out: get("--out") ?? "bench/results",
    daemonLog: get("--daemon-log"),
    pin: argv.includes("--pin"),
  };
}
const args = parseArgs(process.argv.slice(2));
/** With --pin: the daemon's core, and the one everything else shares. */
const DAEMON_CORE = "1";
const OTHERS_CORE = "0";
if (args.pin) {
  if (os.cpus().length < 2) throw new Error("--pin needs at least two cores");
  // This process and its threads: on the others' core too.
  const pinned = spawnSync("taskset", ["-a", "-p", "-c", OTHERS_CORE, String(process.pid)], {
    stdio: "ignore",
  });
  if (pinned.status !== 0) throw new Error("--pin: taskset failed (is util-linux installed?)");
}
const log = (line: string) => process.stderr.write(`${line}\n`);
const now = () => performance.timeOrigin + performance.now();

/** Percentiles of one milestone over the decisions that reached it. */
function stage(xs: readonly { timings: Decided["timings"] }[], key: keyof Decided["timings"]) {
  return percentiles(xs.map((x) => x.timings[key]).filter((v): v is number => v !== undefined));
}

/** The ranges of `attackBySinceHead` (ms after the newest head; null: open-ended). */
const SINCE_HEAD_RANGES: [number | null, number | null][] = [
  [null, 20],
  [20, 60],
  [60, 200],
  [200, null],
];

/** p50/p95/p99 by the nearest rank (the smallest value with at least p of them at or below it). */
function percentiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length === 0 ? null : (s[Math.max(0, Math.ceil(p * s.length) - 1)] as number));
  const r = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    n: s.length,
    p50: r(q(0.5)),
    p95: r(q(0.95)),
    p99: r(q(0.99)),
    max: r(s.length ? (s[s.length - 1] as number) : null),
  };
}

/** Every running process's parent, name and CPU seconds (user+system) so far, by pid, from /proc. */
function processCpu(): Map<number, { ppid: number; comm: string; cpu: number }> {
  const out = new Map<number, { ppid: number; comm: string; cpu: number }>();
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      out.set(Number(pid), { ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {}
  }
  return out;
}

/** The machine's busy CPU seconds so far, all cores (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const f = (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1);
  const ticks = f.map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / 100;
}

/** Where the machine's CPU went during a run, by process role, in % of one core. */
export type CpuProfile = {
  /** The devnet's Anvil: the chain node the daemon watches and traces dangerous calls on. */
  node: number;
  /** The daemon's fork Anvils. */
  forks: number;
  daemon: number;
  /** The devnet's own process (its relay and block builder), not its Anvil. */
  devnet: number;
  loadgen: number;
  /** This benchmark's own process (bookkeeping, attack injection, the probe). */
  bench: number;
  /** Everything else on the machine. */
  other: number;
  /** The whole machine; 100 per core. */
  machine: number;
};

/**
 * CPU used between two `processCpu` readings by role: a process counts for the role of the
 * nearest ancestor (itself included) among `roots`, an Anvil under the daemon as a fork and one
 * under the devnet as the node. Processes gone by `after` (the load generator) are not in it:
 * `extra` adds what they reported themselves.
 */
function cpuByRole(
  before: Map<number, { cpu: number }>,
  after: Map<number, { ppid: number; comm: string; cpu: number }>,
  roots: { daemon?: number | undefined; devnet?: number | undefined; bench: number },
  wallSec: number,
  machineSec: number,
  extra: Partial<Record<keyof CpuProfile, number>>,
): CpuProfile {
  const secs: Record<keyof CpuProfile, number> = {
    node: 0,
    forks: 0,
    daemon: 0,
    devnet: 0,
    loadgen: 0,
    bench: 0,
    other: 0,
    machine: machineSec,
  };
  for (const [pid, p] of after) {
    const used = p.cpu - (before.get(pid)?.cpu ?? 0);
    if (used <= 0) continue;
    let role: keyof CpuProfile = "other";
    for (let at: number | undefined = pid, hops = 0; at && hops < 8; hops++) {
      if (at === roots.daemon) role = p.comm === "anvil" ? "forks" : "daemon";
      else if (at === roots.devnet) role = p.comm === "anvil" ? "node" : "devnet";
      else if (at === roots.bench) role = "bench";
      else {
        at = after.get(at)?.ppid;
        continue;
      }
      break;
    }
    secs[role] += used;
  }
  for (const [k, v] of Object.entries(extra)) secs[k as keyof CpuProfile] += v ?? 0;
  const pct = (x: number) => Math.round((x / wallSec) * 1000) / 10;
  return Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, pct(v)])) as CpuProfile;
}

// ---------------------------------------------------------------- devnet in a child process
async function startDevnetChild() {
  const port = await freePort();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigil-bench-")), "devnet.json");
  const child = spawn(
    args.pin ? "taskset" : process.execPath,
    [
      ...(args.pin ? ["-c", OTHERS_CORE, process.execPath] : []),
      "bin/vigil.js",
      "devnet",
      "--port",
      String(port),
      "--relay-port",
      "0",
      "--block-time",
      "1000",
      "--gas-limit",
      "2000000000",
      // Ten minutes at 200 tx/s is 600 blocks of state: keep memory (and the node's speed) bounded.
      "--keep-states",
      "256",
      "--json",
      "--out",
      out,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        VIGIL_LOG_LEVEL: process.env.VIGIL_BENCH_DEVNET_LOG ? "info" : "warn",
        VIGIL_LOG_FORMAT: "json",
      },
    },
  );
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const devlog = process.env.VIGIL_BENCH_DEVNET_LOG
    ? fs.createWriteStream(process.env.VIGIL_BENCH_DEVNET_LOG)
    : undefined;
  child.stderr.on("data", (c: Buffer) => devlog?.write(c));
  for (let i = 0; i < 1200 && !stdout.trimEnd().endsWith("}"); i++)
    await new Promise((r) => setTimeout(r, 50));
  const d = JSON.parse(stdout) as Deployment & { relayUrl: string };
  const exited = new Promise((r) => child.once("exit", r));
  // A benchmark that dies (an uncaught error) must not leave the devnet and its Anvil behind.
  process.once("exit", () => child.kill("SIGTERM"));
  return {
    pid: child.pid,
    deployment: d,
    relayUrl: d.relayUrl,
    rpcUrl: d.rpcUrl,
    wsUrl: d.rpcUrl.replace("http", "ws"),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// ---------------------------------------------------------------- load actors
async function setUpActors(devnet: Devnet, d: Deployment, n: number): Promise<Hex[]> {
  const rpc = createRpc(devnet.rpcUrl);
  const keys = Array.from({ length: n }, (_, i) => keccak256(toHex(`vigil-bench-sender-${i}`)));
  const deployer = devnetAccount("deployer");
  const wallet = (k: Hex) => privateKeyToAccount(k);
  const sends: Promise<Hex>[] = [];
  let deployerNonce = Number(
    BigInt(await rpc.call<Hex>("eth_getTransactionCount", [deployer.address, "pending"])),
  );
  const send = async (
    account: ReturnType<typeof wallet> | typeof deployer,
    nonce: number,
    to: Address,
    data: Hex,
  ) => {
    const raw = await account.signTransaction({
      type: "eip1559",
      chainId: d.chainId,
      to,
      data,
      nonce,
      gas: 200_000n,
      maxFeePerGas: parseGwei("50"),
      maxPriorityFeePerGas: parseGwei("1"),
    });
    return rpc.call<Hex>("eth_sendRawTransaction", [raw]);
  };
  for (const k of keys) {
    const a = wallet(k);
    await rpc.call("anvil_setBalance", [a.address, toHex(parseEther("100"))]);
    for (const [token, amount] of [
      [d.tokens.usd, parseUnits("1000000", 6)],
      [d.tokens.coll, parseUnits("10000", 18)],
    ] as const) {
      sends.push(
        send(
          deployer,
          deployerNonce++,
          token,
          encodeFunctionData({ abi: DevToken.abi, functionName: "mint", args: [a.address, amount] }),
        ),
      );
    }
    let nonce = 0;
    for (const [token, spender] of [
      [d.tokens.usd, d.router],
      [d.tokens.coll, d.router],
      [d.tokens.coll, d.market],
    ] as const) {
      sends.push(
        send(
          a,
          nonce++,
          token,
          encodeFunctionData({ abi: DevToken.abi, functionName: "approve", args: [spender, 2n ** 255n] }),
        ),
      );
    }
  }
  const hashes = await Promise.all(sends);
  for (const h of hashes)
    await devnet.publicClient.waitForTransactionReceipt({ hash: h, pollingInterval: 100, timeout: 120_000 });
  return keys;
}

// ---------------------------------------------------------------- one run
type RunResult = {
  rate: number;
  mode: "optimised" | "naive";
  upstreamRttMs: number;
  durationSec: number;
  sent: number;
  /** Load transactions the devnet refused (each leaves its sender's later nonces stuck). */
  sendErrors: number;
  sendErrorSamples?: string[];
  /** Load transactions re-sent because the devnet had lost them (their senders were stuck). */
  rebroadcast: number;
  /** The devnet's pool when the load stopped; `queued` are stuck behind a nonce gap. */
  devnetPoolAtEnd: { pending: number; queued: number } | undefined;
  screened: number;
  skippedByPrefilter: number;
  dropped: number;
  evicted: number;
  neverScreened: number;
  /** Simulations that threw (RPC errors, timeouts). */
  failed: number;
  screenedPerSec: number;
  sentToSeenMs: ReturnType<typeof percentiles>;
  all: ReturnType<typeof percentiles>;
  simulated: ReturnType<typeof percentiles>;
  /** Time inside simulateTx only (the rest of seen->simulated is waiting in the queue). */
  simulationOnly: ReturnType<typeof percentiles>;
  attack: ReturnType<typeof percentiles> & {
    injected: number;
    detected: number;
    prevented: number;
    /** Attacks whose transaction succeeded on chain: the ones that got through. */
    succeededOnChain: number;
  };
  /** The daemon's source: reconnects and catch-ups explain bursts of work and memory. */
  source: {
    seen: number;
    duplicates: number;
    reconnects: number;
    caughtUp: number;
    requeued: number;
    reconcilesSkipped: number;
    rescreened: number;
    rescreenedFresh: number;
  };
  /** Why attack injection stopped early, if it did (the devnet too busy to answer). */
  attackInjectionError?: string;
  attackStages: Record<
    | "dequeued"
    | "stateRead"
    | "forkAcquired"
    | "simulating"
    | "simulated"
    | "simulationOnly"
    | "traced"
    | "scored"
    | "proved"
    | "recorded"
    | "bundleSent"
    | "bundleAck",
    ReturnType<typeof percentiles>
  >;
  /**
   * Attack seen -> bundle by how long after the newest head the attack was seen (ms): the node
   * answers slower right after a head. `[from, to)` ranges.
   */
  attackBySinceHead: {
    fromMs: number | null;
    toMs: number | null;
    bundleSent: ReturnType<typeof percentiles>;
  }[];
  neverScreenedKinds: Record<string, number>;
  attackDecisions: {
    decision: string;
    score: number;
    simulation: string;
    outcome: string;
    /** The attack transaction's fate: "succeeded", "reverted" or "not mined". */
    onChain: string;
    seenToBundleMs: number | undefined;
    /** Every milestone, ms since seen. */
    timings: Decided["timings"];
    /** The simulation's own time and its trace's (ms), and the overlay if it had one. */
    simulationMs: number;
    traceMs: number;
    /** Where its call tree was traced: on the fork, or by the node with the state read. */
    tracedBy: "fork" | "node";
    /** Screened on the node itself (references and proof too), not on a fork. */
    atNode?: true;
    /** References it took from those read alongside its state (the rest were asked after the tree). */
    referencesReadAhead: number;
    overlaid?: { forkHead: string; accounts: number };
  }[];
  cpu: {
    daemonCorePct: number;
    /** The node's and the forks' Anvils together (kept for comparison with earlier runs). */
    anvilCorePct: number;
    byProcess: CpuProfile;
  };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** The daemon's garbage collection pauses over the run (see daemon-host.ts). */
  gc: DaemonUsage["gc"];
  /** Ordinary screenings held back while dangerous-ranked ones ran: holds, waits and their time. */
  urgency: PriorityGateStats;
  /** The fork pool at heads: how long forks are away resetting. */
  forks: {
    resets: number;
    servedBehind: number;
    avgResetMs: number;
    headReadyAvgMs: number;
    headReadyMaxMs: number;
  };
  /** Peak resident memory of the daemon's process (the benchmark runs it in a process of its own). */
  rssMaxMb: number;
  heapUsedAtEndMb: number;
  peakMemoryMb: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Fork state cache answers (absent for the naive baseline, which has none). */
  /** The node's answer time to an attack's call tree by ms after each head (`--probe-node`). */
  nodeProbeMs?: Record<string, ReturnType<typeof percentiles>>;
  stateCache?: {
    hits: number;
    misses: number;
    hitRate: number;
    prefetched: number;
    hotKeys: number;
    /** Access lists read ahead for cold dangerous transactions, and those the node refused. */
    accessLists: number;
    accessListFailures: number;
    /** Prestate traces read ahead instead (values included), and those the node refused. */
    prestates: number;
    prestateFailures: number;
    /** Dangerous calls simulated with that state overlaid, and those on a fork a head behind. */
    overlaid: number;
    overlaidBehind: number;
    /** Call trees the node traced with the state read, those it could not, and those used. */
    callTrees: number;
    callTreeFailures: number;
    tracedByNode: number;
    screenedAtNode: number;
    referencesReadAhead: number;
  };
};

/**
 * The market as every attack should find it: unpaused (a pause from an earlier attack may have
 * landed after its last check) and full (an attack that got through drained it, and every later
 * attack would revert in simulation and test nothing).
 */
async function restoreMarket(devnet: Devnet, d: Deployment): Promise<void> {
  const paused = await devnet.publicClient.readContract({
    address: d.market,
    abi: VulnerableSpotPriceLendingMarket.abi,
    functionName: "paused",
  });
  if (paused) await liftThroughSafe(devnet, d);
  const liquidity = await devnet.publicClient.readContract({
    address: d.market,
    abi: VulnerableSpotPriceLendingMarket.abi,
    functionName: "liquidity",
  });
  const wanted = parseUnits("1000000", 6);
  if (liquidity < wanted) {
    const deployer = devnetAccount("deployer");
    const missing = wanted - liquidity;
    await execAndMine(devnet, deployer, {
      to: d.tokens.usd,
      data: encodeFunctionData({
        abi: DevToken.abi,
        functionName: "mint",
        args: [deployer.address, missing],
      }),
    });
    await execAndMine(devnet, deployer, {
      to: d.tokens.usd,
      data: encodeFunctionData({ abi: DevToken.abi, functionName: "approve", args: [d.market, missing] }),
    });
    await execAndMine(devnet, deployer, {
      to: d.market,
      data: encodeFunctionData({
        abi: VulnerableSpotPriceLendingMarket.abi,
        functionName: "supply",
        args: [missing],
      }),
    });
    log(`  refilled the market with ${missing} USD units drained by an attack that got through`);
  }
}

async function run(
  world: Awaited<ReturnType<typeof startDevnetChild>>,
  devnet: Devnet,
  keys: Hex[],
  opts: { rate: number; mode: "optimised" | "naive"; rttMs: number; duration: number },
): Promise<RunResult> {
  const d = world.deployment;
  await restoreMarket(devnet, d);
  const proxy = opts.rttMs > 0 ? await startRttProxy(world.rpcUrl, opts.rttMs) : undefined;
  const configInput = {
    chain: { rpcUrl: proxy?.url ?? world.rpcUrl, wsUrl: world.wsUrl, chainId: d.chainId },
    guardian: d.guardian.address,
    targets: [{ address: d.market }],
    sentinel: { privateKeyEnv: "UNUSED" },
    relays: [{ url: world.relayUrl }],
    simulator: { forks: 2, timeoutMs: 10_000 },
    record: {
      path: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigil-bench-rec-")), "incidents.jsonl"),
    },
    metrics: { port: 0 },
    queue: { capacity: 10_000 },
  };
  parseConfig(configInput); // a bad config fails here, with its reasons, not inside the child
  const guardian = await startDaemonProcess({
    config: configInput,
    sentinelKey: devnetPrivateKey("sentinel"),
    naive: opts.mode === "naive",
    ...(args.nodeNearMs !== undefined ? { nodeNearMs: args.nodeNearMs } : {}),
    ...(args.daemonLog ? { logFile: `${args.daemonLog}.${opts.mode}-${opts.rate}-${opts.rttMs}.log` } : {}),
    ...(args.pin ? { cpus: DAEMON_CORE } : {}),
  });
  const decisions = new Map<Hex, Screened>();
  const resolved = new Map<Hex, { outcome: string }>();
  guardian.onScreened((x) => decisions.set(x.hash, x));
  guardian.onTimings((hash, timings) => {
    const d = decisions.get(hash);
    if (d) d.timings = timings;
  });
  guardian.onResolved((hash, outcome, timings) => {
    resolved.set(hash, { outcome });
    const d = decisions.get(hash);
    if (d) d.timings = timings;
  });

  // Warm-up: let the forks reach the head and touch the market once, and let the baseline finish
  // learning from recent blocks (start-up tracing on the node is not steady-state latency).
  await new Promise((r) => setTimeout(r, 1500));
  const startHead = await devnet.publicClient.getBlockNumber();
  for (let i = 0; i < 300; i++) {
    const { stats } = await guardian.stats();
    if ((stats.baseline?.learnedTo ?? startHead) >= startHead) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The probe calls an attack contract of its own (deployed now, so screened like any deployment).
  const probe = args.probeNode
    ? await startNodeProbe({
        rpcUrl: world.rpcUrl,
        wsUrl: world.wsUrl,
        call: {
          from: devnetAccount("attacker").address,
          to: await deployAndMine(devnet, devnetAccount("attacker"), SpotPriceAttacker, []),
          gas: "0x2dc6c0",
          data: encodeFunctionData({
            abi: SpotPriceAttacker.abi,
            functionName: "attackWithFlashLender",
            args: [d.flashLender, d.market, parseUnits("4000000", 6)],
          }),
        },
        offsetsMs: [2, 10, 25, 50, 100, 250, 500],
        percentiles,
      })
    : undefined;
  const usage0 = (await guardian.stats()).usage;
  const t0 = now();

  const inputFile = path.join(os.tmpdir(), `vigil-loadgen-${process.pid}-${opts.rate}-${opts.mode}.json`);
  const input: LoadgenInput = {
    rpcUrl: world.rpcUrl,
    chainId: d.chainId,
    keys,
    rate: opts.rate,
    durationSec: opts.duration,
    seed: opts.rate,
    world: {
      router: d.router,
      pricePair: d.uniswap.pricePair,
      arbPair: d.uniswap.arbPair,
      usd: d.tokens.usd,
      coll: d.tokens.coll,
      market: d.market,
    },
  };
  fs.writeFileSync(inputFile, JSON.stringify(input));
  const gen = spawn(
    args.pin ? "taskset" : process.execPath,
    [
      ...(args.pin ? ["-c", OTHERS_CORE, process.execPath] : []),
      "--import",
      "tsx",
      "scripts/bench/loadgen.ts",
      inputFile,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let genOut = "";
  /** CPU by process and the machine's, when the load starts (the generator has signed it all). */
  let cpuAtLoad: { byProcess: ReturnType<typeof processCpu>; machine: number; at: number } | undefined;
  gen.stdout.on("data", (c: Buffer) => {
    genOut += c.toString();
    if (!cpuAtLoad && genOut.includes("\n"))
      cpuAtLoad = { byProcess: processCpu(), machine: machineBusySeconds(), at: now() };
  });
  const genDone = new Promise<void>((r) => gen.once("exit", () => r()));
  let generating = true;
  void genDone.then(() => {
    generating = false;
  });

  // Attacks at random moments while the load runs, at least a few blocks apart.
  const attacker = devnetAccount("attacker");
  const attacks: { hash: Hex; sentAt: number }[] = [];
  let injectorError: string | undefined;
  const rpc = createRpc(world.rpcUrl);
  const injector = (async () => {
    await new Promise((r) => setTimeout(r, 3000)); // pre-signing happens first in the generator
    while (generating) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 2500));
      if (!generating) break;
      // Each attack goes through a contract of its own, deployed a block before, as real attacks
      // do: one that nobody has called yet. (One contract for every attack stopped looking new
      // to the prefilter after eight calls.) The deployment is screened like any transaction.
      const attackContract = await deployAndMine(devnet, attacker, SpotPriceAttacker, []);
      const nonce = Number(
        BigInt(await rpc.call<Hex>("eth_getTransactionCount", [attacker.address, "pending"])),
      );
      const raw = await attacker.signTransaction({
        type: "eip1559",
        chainId: d.chainId,
        to: attackContract,
        data: encodeFunctionData({
          abi: SpotPriceAttacker.abi,
          functionName: "attackWithFlashLender",
          args: [d.flashLender, d.market, parseUnits(String(3_900_000 + attacks.length), 6)],
        }),
        nonce,
        gas: 3_000_000n,
        maxFeePerGas: parseGwei("100"),
        maxPriorityFeePerGas: parseGwei("20"),
      });
      const hash = keccak256(raw);
      attacks.push({ hash, sentAt: now() });
      await rpc.call("eth_sendRawTransaction", [raw]);
      for (let i = 0; i < 100 && !resolved.has(hash); i++) await new Promise((r) => setTimeout(r, 100));
      await restoreMarket(devnet, d);
    }
  })().catch((error) => {
    // A node too busy to answer ends the injections, not the run (its figures still count).
    injectorError = error instanceof Error ? error.message.split("\n")[0] : String(error);
    log(`  attack injection stopped: ${injectorError}`);
  });

  await genDone;
  const genResult = JSON.parse(genOut.trim().split("\n").at(-1) ?? "") as {
    sent: { hash: Hex; at: number; kind: string }[];
    errors: number;
    errorSamples: string[];
    rebroadcast: number;
    wallSec: number;
    cpuSeconds: number;
  };
  await injector;
  // Let the queue drain (or give up after 15 s: what is left was never screened).
  for (let i = 0; i < 150 && (await guardian.stats()).stats.source.queued > 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  const wall = (now() - t0) / 1000;
  // A growing "queued" count means senders stalled behind a nonce gap: load the chain never mines.
  const pool = await rpc.call<{ pending: Hex; queued: Hex }>("txpool_status").catch(() => undefined);
  // From the first transaction sent to the end of the drain.
  const cpu = cpuByRole(
    cpuAtLoad?.byProcess ?? new Map(),
    processCpu(),
    { daemon: guardian.pid, devnet: world.pid, bench: process.pid },
    (now() - (cpuAtLoad?.at ?? t0)) / 1000,
    machineBusySeconds() - (cpuAtLoad?.machine ?? 0),
    { loadgen: genResult.cpuSeconds },
  );
  const { stats } = await guardian.stats();
  // The daemon's own process: its CPU over the run, its peak resident memory, its event loop.
  const nodeProbeMs = await probe?.stop();
  const usage = await guardian.stop();
  await proxy?.stop();

  const sentByHash = new Map(genResult.sent.map((s) => [s.hash, s]));
  const screenedLoad = genResult.sent
    .map((s) => decisions.get(s.hash))
    .filter((x): x is Screened => x !== undefined);
  const simulatable = genResult.sent.filter((s) => s.kind !== "eth-transfer");
  const neverScreened = simulatable.filter((s) => !decisions.has(s.hash)).length;
  const firstSeen = Math.min(...screenedLoad.map((x) => x.seenAt));
  const lastScored = Math.max(...screenedLoad.map((x) => x.seenAt + (x.timings.scoredMs ?? 0)));
  const attackDecisions = attacks
    .map((a) => decisions.get(a.hash))
    .filter((x): x is Screened => x !== undefined);
  // What each attack did on chain: an attack the daemon let through that reverted anyway (the
  // market still paused from the previous one, say) is not a miss; one that succeeded is.
  const receipts = await rpc.batch<{ status: Hex } | null>(
    attacks.map((a) => ({ method: "eth_getTransactionReceipt", params: [a.hash] })),
  );
  const onChain = new Map(
    attacks.map((a, i) => {
      const r = receipts[i];
      return [
        a.hash,
        r && !(r instanceof Error) ? (r.status === "0x1" ? "succeeded" : "reverted") : "not mined",
      ];
    }),
  );
  return {
    rate: opts.rate,
    mode: opts.mode,
    upstreamRttMs: opts.rttMs,
    durationSec: Math.round(genResult.wallSec * 10) / 10,
    sent: genResult.sent.length,
    sendErrors: genResult.errors,
    rebroadcast: genResult.rebroadcast,
    ...(genResult.errorSamples.length > 0 ? { sendErrorSamples: genResult.errorSamples } : {}),
    devnetPoolAtEnd: pool ? { pending: Number(pool.pending), queued: Number(pool.queued) } : undefined,
    screened: screenedLoad.length,
    skippedByPrefilter: stats.skipped,
    dropped: stats.source.evicted + neverScreened,
    evicted: stats.source.evicted,
    neverScreened,
    failed: stats.failed,
    screenedPerSec:
      Math.round((screenedLoad.length / Math.max(0.001, (lastScored - firstSeen) / 1000)) * 10) / 10,
    sentToSeenMs: percentiles(screenedLoad.map((x) => x.seenAt - (sentByHash.get(x.hash)?.at ?? x.seenAt))),
    all: percentiles(screenedLoad.map((x) => x.timings.scoredMs ?? 0)),
    simulated: percentiles(screenedLoad.map((x) => x.timings.simulatedMs ?? 0)),
    simulationOnly: percentiles(screenedLoad.map((x) => x.simulation.durationMs)),
    attackStages: {
      dequeued: stage(attackDecisions, "dequeuedMs"),
      stateRead: stage(attackDecisions, "stateReadMs"),
      forkAcquired: stage(attackDecisions, "forkMs"),
      simulating: stage(attackDecisions, "simulatingMs"),
      simulated: percentiles(attackDecisions.map((x) => x.timings.simulatedMs ?? 0)),
      simulationOnly: percentiles(attackDecisions.map((x) => x.simulation.durationMs)),
      traced: percentiles(attackDecisions.map((x) => x.simulation.traceMs)),
      scored: percentiles(attackDecisions.map((x) => x.timings.scoredMs ?? 0)),
      proved: stage(attackDecisions, "provedMs"),
      recorded: stage(attackDecisions, "recordedMs"),
      bundleSent: stage(attackDecisions, "bundleSentMs"),
      bundleAck: stage(attackDecisions, "bundleAckMs"),
    },
    attackBySinceHead: SINCE_HEAD_RANGES.map(([fromMs, toMs]) => ({
      fromMs,
      toMs,
      bundleSent: stage(
        attackDecisions.filter((x) => {
          const since = x.timings.sinceHeadMs;
          return (
            since !== undefined && (fromMs === null || since >= fromMs) && (toMs === null || since < toMs)
          );
        }),
        "bundleSentMs",
      ),
    })),
    attackDecisions: attackDecisions.map((x) => ({
      decision: x.verdict.decision,
      score: Math.round(x.verdict.score * 1000) / 1000,
      simulation: x.simulation.success ? "ok" : (x.simulation.error ?? "reverted"),
      outcome: resolved.get(x.hash)?.outcome ?? "unresolved",
      onChain: onChain.get(x.hash) ?? "not mined",
      seenToBundleMs: x.timings.bundleSentMs,
      timings: x.timings,
      simulationMs: Math.round(x.simulation.durationMs * 10) / 10,
      traceMs: Math.round(x.simulation.traceMs * 10) / 10,
      tracedBy: x.simulation.tracedBy,
      referencesReadAhead: x.simulation.referencesReadAhead,
      ...(x.simulation.atNode ? { atNode: true as const } : {}),
      ...(x.simulation.overlaid ? { overlaid: x.simulation.overlaid } : {}),
    })),
    ...(nodeProbeMs ? { nodeProbeMs } : {}),
    neverScreenedKinds: Object.fromEntries(
      [...new Set(simulatable.filter((s) => !decisions.has(s.hash)).map((s) => s.kind))].map((k) => [
        k,
        simulatable.filter((s) => s.kind === k && !decisions.has(s.hash)).length,
      ]),
    ),
    attack: {
      ...percentiles(
        attackDecisions.map((x) => x.timings.bundleSentMs).filter((x): x is number => x !== undefined),
      ),
      injected: attacks.length,
      detected: attackDecisions.filter((x) => x.verdict.decision === "pause").length,
      prevented: attacks.filter((a) => resolved.get(a.hash)?.outcome === "paused").length,
      succeededOnChain: attacks.filter((a) => onChain.get(a.hash) === "succeeded").length,
    },
    ...(injectorError ? { attackInjectionError: injectorError } : {}),
    source: {
      seen: stats.source.seen,
      duplicates: stats.source.duplicates,
      reconnects: stats.source.reconnects,
      caughtUp: stats.source.caughtUp,
      requeued: stats.source.requeued,
      reconcilesSkipped: stats.source.reconcilesSkipped,
      rescreened: stats.rescreened,
      rescreenedFresh: stats.rescreenedFresh,
    },
    cpu: {
      daemonCorePct: Math.round(((usage.cpuSeconds - usage0.cpuSeconds) / wall) * 1000) / 10,
      anvilCorePct: Math.round((cpu.node + cpu.forks) * 10) / 10,
      byProcess: cpu,
    },
    eventLoopDelayMs: usage.eventLoopDelayMs,
    gc: usage.gc,
    urgency: stats.urgency,
    forks: {
      resets: stats.forks.resets,
      servedBehind: stats.forks.servedBehind,
      avgResetMs: avgOf(stats.forks.resetMs, stats.forks.resets),
      headReadyAvgMs: avgOf(stats.forks.headReady.totalMs, stats.forks.headReady.heads),
      headReadyMaxMs: stats.forks.headReady.maxMs,
    },
    rssMaxMb: usage.peakRssMb,
    heapUsedAtEndMb: usage.heapUsedMb,
    peakMemoryMb: usage.peakMemoryMb,
    ...(stats.stateCache
      ? {
          stateCache: {
            hits: stats.stateCache.hits,
            misses: stats.stateCache.misses,
            hitRate:
              Math.round(
                (stats.stateCache.hits / Math.max(1, stats.stateCache.hits + stats.stateCache.misses)) * 1000,
              ) / 1000,
            prefetched: stats.stateCache.prefetched,
            hotKeys: stats.stateCache.hotKeys,
            accessLists: stats.stateCache.accessLists,
            accessListFailures: stats.stateCache.accessListFailures,
            prestates: stats.stateCache.prestates,
            prestateFailures: stats.stateCache.prestateFailures,
            overlaid: stats.overlaid,
            overlaidBehind: stats.overlaidBehind,
            callTrees: stats.stateCache.callTrees,
            callTreeFailures: stats.stateCache.callTreeFailures,
            tracedByNode: stats.tracedByNode,
            screenedAtNode: stats.screenedAtNode,
            referencesReadAhead: stats.referencesReadAhead,
          },
        }
      : {}),
  };
}

/** `total / count` to 0.1, 0 when nothing was counted. */
function avgOf(total: number, count: number): number {
  return count > 0 ? Math.round((total / count) * 10) / 10 : 0;
}

async function liftThroughSafe(devnet: Devnet, d: Deployment) {
  await viaSafe(
    devnet,
    d,
    encodeFunctionData({ abi: Guardian.abi, functionName: "liftPause", args: [d.market] }),
  );
}

async function viaSafe(devnet: Devnet, d: Deployment, data: Hex) {
  const tx = safeCall(d.guardian.address, data, await safeNonce(devnet, d.safe.address));
  const sigs = await Promise.all(
    [devnetAccount("safeOwner1"), devnetAccount("safeOwner2")].map((o) =>
      signSafeTx(o, d.safe.address, d.chainId, tx),
    ),
  );
  await execSafeTx(devnet, devnetAccount("deployer"), d.safe.address, tx, sigs);
}

// ---------------------------------------------------------------- main
log(
  `bench:latency rates ${args.rates.join(",")} tx/s, ${args.duration} s each, upstream RTT variant ${args.rtt} ms, naive baseline at ${args.naiveRate} tx/s`,
);
const world = await startDevnetChild();
const results: RunResult[] = [];
try {
  const devnet = withExternalBlocks(await connectDevnet(world.rpcUrl));
  log(`devnet up at ${world.rpcUrl}; funding ${args.senders} senders`);
  const keys = await setUpActors(devnet, world.deployment, args.senders);
  // Every injected attack costs the sentinel one pause of its budget (20 per hour on the devnet):
  // governance raises it for the benchmark, through the Safe like any setting.
  await viaSafe(
    devnet,
    world.deployment,
    encodeFunctionData({
      abi: Guardian.abi,
      functionName: "setSentinelBudget",
      args: [world.deployment.accounts.sentinel, 10_000],
    }),
  );
  // Side by side at the baseline's rate first (a fresh chain for both), then the load ladder.
  const plan: { rate: number; mode: "optimised" | "naive"; rttMs: number }[] = [
    ...(args.naive ? [{ rate: args.naiveRate, mode: "naive" as const, rttMs: 0 }] : []),
    ...(!args.naive || args.rttOnly || args.rates.includes(args.naiveRate)
      ? []
      : [{ rate: args.naiveRate, mode: "optimised" as const, rttMs: 0 }]),
    // The round-trip run before the heavy rates: a 1,000 tx/s run leaves the node a backlog that
    // the next run would inherit.
    ...(args.rtt > 0 ? [{ rate: args.naiveRate, mode: "optimised" as const, rttMs: args.rtt }] : []),
    ...(args.rttOnly ? [] : args.rates.map((rate) => ({ rate, mode: "optimised" as const, rttMs: 0 }))),
  ];
  const rpc = createRpc(world.rpcUrl);
  for (const p of plan) {
    // Runs must not inherit each other's backlog: wait for the public pool to empty.
    for (let i = 0; i < 600; i++) {
      const st = await rpc.call<{ pending: Hex; queued: Hex }>("txpool_status");
      if (Number(BigInt(st.pending)) === 0) break;
      if (i % 50 === 0) log(`  waiting for the pool to drain (${Number(BigInt(st.pending))} pending)`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`run: ${p.rate} tx/s, ${p.mode}, upstream RTT ${p.rttMs} ms`);
    const r = await run(world, devnet, keys, { ...p, duration: args.duration });
    results.push(r);
    const cpuLine = Object.entries(r.cpu.byProcess)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    log(
      `  attacks decided: ${JSON.stringify(r.attackDecisions)}\n  screened ${r.screened}/${r.sent} (${r.screenedPerSec}/s), dropped ${r.dropped} (evicted ${r.evicted}, never screened ${JSON.stringify(r.neverScreenedKinds)}, failed ${r.failed}); attack stages p50: dequeued ${r.attackStages.dequeued.p50}, fork ${r.attackStages.forkAcquired.p50}, traced ${r.attackStages.traced.p50} in simulateTx ${r.attackStages.simulationOnly.p50}, sim ${r.attackStages.simulated.p50}, scored ${r.attackStages.scored.p50}, proved ${r.attackStages.proved.p50}, recorded ${r.attackStages.recorded.p50}, sent ${r.attackStages.bundleSent.p50}, ack ${r.attackStages.bundleAck.p50}; cpu daemon ${r.cpu.daemonCorePct}% anvil ${r.cpu.anvilCorePct}%, % of a core while the load ran: ${cpuLine}; event loop delay p50 ${r.eventLoopDelayMs.p50} p99 ${r.eventLoopDelayMs.p99} max ${r.eventLoopDelayMs.max} ms; gc pauses minor ${JSON.stringify(r.gc.minor)} major ${JSON.stringify(r.gc.major)}; urgency ${JSON.stringify(r.urgency)}; all p50 ${r.all.p50} p99 ${r.all.p99} ms (simulateTx p50 ${r.simulationOnly.p50} p99 ${r.simulationOnly.p99}); attacks ${r.attack.prevented}/${r.attack.injected} prevented, seen->bundle p50 ${r.attack.p50} p99 ${r.attack.p99} ms; source ${JSON.stringify(r.source)}; daemon peak rss ${r.rssMaxMb} MB (heap ${r.heapUsedAtEndMb} MB at the end; peaks ${JSON.stringify(r.peakMemoryMb)})`,
    );
    if (r.nodeProbeMs)
      log(
        `  node's answer (an attack's call tree) by ms after a head: ${Object.entries(r.nodeProbeMs)
          .map(([o, q]) => `+${o}: p50 ${q.p50} p99 ${q.p99} max ${q.max}`)
          .join("; ")}`,
      );
  }
} finally {
  await world.stop();
}

const optimisedAt = results.find(
  (r) => r.mode === "optimised" && r.rate === args.naiveRate && r.upstreamRttMs === 0,
);
const naive = results.find((r) => r.mode === "naive");
const report = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?", node: process.version },
  /** How the daemon process was started: built JavaScript, with the systemd unit's Node flags. */
  daemon: {
    build: "dist (esbuild bundle)",
    nodeFlags: [
      ...deployedNodeFlags(process.cwd()),
      ...(process.env.VIGIL_BENCH_DAEMON_NODE_ARGS ?? "").split(" ").filter(Boolean),
    ],
  },
  durationSecPerRun: args.duration,
  /** --pin: the daemon and its forks had a core of their own; the devnet, load and bench the other. */
  pinned: args.pin ? { daemon: DAEMON_CORE, others: OTHERS_CORE } : false,
  runs: results
    .filter((r) => r.mode === "optimised")
    .map((r) => ({
      ...r,
      attack: r.attack,
      all: r.all,
    })),
  baseline: naive
    ? {
        rate: naive.rate,
        attack: naive.attack,
        all: naive.all,
        screenedPerSec: naive.screenedPerSec,
        dropped: naive.dropped,
      }
    : null,
  speedupP99:
    naive?.attack.p99 && optimisedAt?.attack.p99
      ? Math.round((naive.attack.p99 / optimisedAt.attack.p99) * 10) / 10
      : null,
  speedupAllP99:
    naive?.all.p99 && optimisedAt?.all.p99
      ? Math.round((naive.all.p99 / optimisedAt.all.p99) * 10) / 10
      : null,
};
fs.mkdirSync(args.out, { recursive: true });
const file = path.join(args.out, `latency-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  const row = (r: RunResult) =>
    `${String(r.rate).padStart(5)} ${r.mode.padEnd(9)} ${String(r.upstreamRttMs).padStart(4)}  ${String(r.attack.p50 ?? "-").padStart(7)} ${String(r.attack.p99 ?? "-").padStart(7)}  ${String(r.all.p50).padStart(6)} ${String(r.all.p99).padStart(7)}  ${String(r.screenedPerSec).padStart(8)} ${String(r.dropped).padStart(7)}  ${String(r.cpu.daemonCorePct).padStart(5)}% ${String(r.rssMaxMb).padStart(6)}`;
  process.stdout.write(
    [
      "",
      " rate mode       rtt  atk p50 atk p99  all p50 all p99  screened/s dropped  cpu    rss MB",
      ...results.map(row),
      "",
      `attack seen->bundle p99 speed-up over the naive baseline: ${report.speedupP99 ?? "n/a"}x`,
      `written to ${file}`,
      "",
    ].join("\n"),
  );
}
process.exit(0);
