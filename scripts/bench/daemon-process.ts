// The parent side of daemon-host.ts: starts the daemon in its own process and speaks to it.
// The host is bundled to plain JavaScript first, as `vigil run` ships (scripts/build.mjs): the
// figures are then those of the built daemon, without tsx's loader thread and compiler.
import { fork, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import type { Decided, RunningGuardian } from "../../src/guardian.ts";
import type { DaemonUsage, HostRequest, Screened } from "./daemon-host.ts";

export type { DaemonUsage, Screened };

type Stats = ReturnType<RunningGuardian["stats"]>;

type HostMessage =
  | { type: "ready" }
  | { type: "screened"; items: Screened[] }
  | { type: "timings"; hash: Hex; timings: Decided["timings"] }
  | { type: "resolved"; hash: Hex; outcome: string; timings: Decided["timings"] }
  | { type: "stats"; stats: Stats; usage: DaemonUsage }
  | { type: "stopped"; usage: DaemonUsage }
  | { type: "error"; message: string };

export async function startDaemonProcess(options: {
  config: unknown;
  sentinelKey: Hex;
  naive: boolean;
  /** The guardian's `tuning.nodeNearMs` (default: its own). */
  nodeNearMs?: number;
  /** The daemon's own logs (JSON lines, info and above) go here; none are kept without it. */
  logFile?: string;
  /** Runs the daemon (and so its forks) on these cores only (`taskset -c`), e.g. "1". */
  cpus?: string;
}) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, "../..");
  const host = path.join(root, "dist/bench/daemon-host.mjs");
  const built = spawnSync(
    process.execPath,
    [path.join(root, "scripts/build.mjs"), path.join(here, "daemon-host.ts"), host],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (built.status !== 0) throw new Error("could not build the daemon host (scripts/build.mjs)");
  const child = fork(host, [], {
    // Pinned: `taskset -c <cpus> node <flags> host` (fork runs execPath with execArgv before the
    // module; the IPC channel passes through the environment and an inherited descriptor).
    ...(options.cpus ? { execPath: "taskset" } : {}),
    // VIGIL_BENCH_DAEMON_NODE_ARGS: extra Node flags for the daemon (e.g. a heap limit to try).
    // The daemon runs with the Node flags the systemd unit gives it (its heap limit), then any
    // in VIGIL_BENCH_DAEMON_NODE_ARGS (to try others; a later flag wins).
    execArgv: [
      ...(options.cpus ? ["-c", options.cpus, process.execPath] : []),
      "--enable-source-maps",
      ...deployedNodeFlags(root),
      ...(process.env.VIGIL_BENCH_DAEMON_NODE_ARGS ?? "").split(" ").filter(Boolean),
    ],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const screened: ((x: Screened) => void)[] = [];
  const timings: ((hash: Hex, t: Decided["timings"]) => void)[] = [];
  const resolved: ((hash: Hex, outcome: string, t: Decided["timings"]) => void)[] = [];
  const waiting = new Map<string, ((m: HostMessage) => void)[]>();
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const next = (type: HostMessage["type"]) =>
    new Promise<HostMessage>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.set(type, [...(waiting.get(type) ?? []), resolve]);
      void exited.then(() => reject(failure ?? new Error("the daemon process exited")));
    });
  child.on("message", (m: HostMessage) => {
    if (m.type === "screened") for (const x of m.items) for (const fn of screened) fn(x);
    else if (m.type === "timings") for (const fn of timings) fn(m.hash, m.timings);
    else if (m.type === "resolved") for (const fn of resolved) fn(m.hash, m.outcome, m.timings);
    else if (m.type === "error") failure = new Error(`daemon process: ${m.message}`);
    const w = waiting.get(m.type)?.shift();
    w?.(m);
    if (m.type === "error") for (const list of waiting.values()) list.splice(0);
  });
  const request = (r: HostRequest) => child.send(r);
  const ready = next("ready");
  request({
    type: "start",
    config: options.config,
    sentinelKey: options.sentinelKey,
    naive: options.naive,
    ...(options.nodeNearMs !== undefined ? { nodeNearMs: options.nodeNearMs } : {}),
    ...(options.logFile ? { logFile: options.logFile } : {}),
  });
  await Promise.race([
    ready,
    new Promise((_, reject) =>
      setTimeout(() => reject(failure ?? new Error("daemon did not start")), 60_000),
    ),
  ]);
  return {
    pid: child.pid,
    onScreened: (fn: (x: Screened) => void) => screened.push(fn),
    onTimings: (fn: (hash: Hex, t: Decided["timings"]) => void) => timings.push(fn),
    onResolved: (fn: (hash: Hex, outcome: string, t: Decided["timings"]) => void) => resolved.push(fn),
    async stats(): Promise<{ stats: Stats; usage: DaemonUsage }> {
      const answer = next("stats");
      request({ type: "stats" });
      const m = (await answer) as Extract<HostMessage, { type: "stats" }>;
      return { stats: m.stats, usage: m.usage };
    },
    /** Stops the daemon (its forks too) and returns its resource use up to the stop. */
    async stop(): Promise<DaemonUsage> {
      const answer = next("stopped");
      request({ type: "stop" });
      const m = (await answer) as Extract<HostMessage, { type: "stopped" }>;
      await exited;
      return m.usage;
    },
    kill: () => child.kill("SIGTERM"),
  };
}

/** The Node flags of deploy/vigil.service's ExecStart: what the daemon runs with in production. */
export function deployedNodeFlags(root: string): string[] {
  const unit = fs.readFileSync(path.join(root, "deploy/vigil.service"), "utf8");
  const line = unit.split("\n").find((l) => l.startsWith("ExecStart="));
  const words = line?.slice("ExecStart=".length).trim().split(/\s+/) ?? [];
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith("--")) break; // the script: node's own flags come before it
    flags.push(w);
  }
  return flags;
}
