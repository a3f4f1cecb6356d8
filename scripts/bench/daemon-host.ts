// The daemon under measurement, in a process of its own (started by bench:latency with `fork`):
// its memory, CPU and event loop are then the daemon's alone, not shared with the benchmark's
// bookkeeping or the load generator. It runs `startGuardian` exactly as `vigil run` does and
// streams what the figures need over IPC (advanced serialisation: bigints pass as they are).
//
// parent -> child: { type: "start", config, sentinelKey, naive } | { type: "stats" } | { type: "stop" }
// child -> parent: { type: "ready" } | { type: "screened", items } | { type: "timings", hash, timings }
//                  | { type: "resolved", hash, outcome, timings } | { type: "stats", stats, usage }
//                  | { type: "stopped" } | { type: "error", message }
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import type { Hex } from "viem";
import { type Decided, type RunningGuardian, startGuardian } from "../../src/guardian.ts";
import { parseConfig } from "../../src/internal/config.ts";
import { createLogger, silentLogger } from "../../src/internal/logger.ts";

/** Only what the figures need: a Decided holds the whole evidence and the transaction. */
export type Screened = {
  hash: Hex;
  seenAt: number;
  timings: Decided["timings"];
  simulation: {
    durationMs: number;
    traceMs: number;
    tracedBy: "fork" | "node";
    referencesReadAhead: number;
    atNode?: true;
    success: boolean;
    error: string | undefined;
    overlaid?: { forkHead: string; accounts: number };
  };
  verdict: { decision: Decided["verdict"]["decision"]; score: number };
};

/** The daemon process's own resource use since it started the guardian. */
export type DaemonUsage = {
  cpuSeconds: number;
  /** Peak resident set of the daemon process (getrusage), MB. */
  peakRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  /** The largest of each part of the process's memory seen (sampled every 250 ms), MB. */
  peakMemoryMb: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Garbage collection pauses since the guardian started: young-generation and full collections. */
  gc: { minor: GcPauses; major: GcPauses };
};

/** Pauses of one kind of collection: how many, and their p50 / p99 / max and total (ms). */
export type GcPauses = { count: number; p50: number; p99: number; max: number; totalMs: number };

export type HostRequest =
  | {
      type: "start";
      config: unknown;
      sentinelKey: Hex;
      naive: boolean;
      nodeNearMs?: number;
      logFile?: string;
    }
  | { type: "stats" }
  | { type: "stop" };

const send = (message: unknown) => process.send?.(message);
let guardian: RunningGuardian | undefined;
let pending: Screened[] = [];
const incidents = new Map<Hex, Hex>(); // incident id -> tx hash
const timingsOf = new Map<Hex, Decided["timings"]>();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
/** Each collection's pause (ms) by kind, from the guardian's start. */
const gcPauses = { minor: [] as number[], major: [] as number[] };
let measuringGc = false;
const gcObserver = new PerformanceObserver((list) => {
  if (!measuringGc) return;
  for (const e of list.getEntries()) {
    const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcPauses.minor.push(e.duration);
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcPauses.major.push(e.duration);
  }
});
gcObserver.observe({ entryTypes: ["gc"] });
function pauses(xs: number[]): GcPauses {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => Math.round((s[Math.max(0, Math.ceil(p * s.length) - 1)] ?? 0) * 100) / 100;
  const total = s.reduce((a, b) => a + b, 0);
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: at(1), totalMs: Math.round(total) };
}
let cpu0 = process.cpuUsage();
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= (guardian?.stop() ?? Promise.resolve()).then(() => {
    clearInterval(flush);
    clearInterval(sampler);
    gcObserver.disconnect();
  });
  return stopping;
};

const peakMemory = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peakMemory) as (keyof typeof peakMemory)[])
    peakMemory[k] = Math.max(peakMemory[k], Math.round(m[k] / 1e6));
}, 250);
const flush = setInterval(() => {
  if (pending.length === 0) return;
  send({ type: "screened", items: pending });
  pending = [];
}, 50);

function usage(): DaemonUsage {
  const cpu = process.cpuUsage(cpu0);
  const mem = process.memoryUsage();
  // The histogram counts the 10 ms sampling interval itself: report the delay beyond it.
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - 10) * 100) / 100);
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssMb: Math.round(mem.rss / 1e6),
    heapUsedMb: Math.round(mem.heapUsed / 1e6),
    peakMemoryMb: { ...peakMemory },
    eventLoopDelayMs: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
    gc: { minor: pauses(gcPauses.minor), major: pauses(gcPauses.major) },
  };
}

async function start(request: Extract<HostRequest, { type: "start" }>) {
  guardian = await startGuardian({
    config: parseConfig(request.config),
    sentinelKey: request.sentinelKey,
    logger: request.logFile ? createLogger({ level: "info", file: request.logFile }) : silentLogger(),
    ...(request.naive ? { tuning: { naive: true } } : {}),
    ...(request.nodeNearMs !== undefined && !request.naive
      ? { tuning: { nodeNearMs: request.nodeNearMs } }
      : {}),
  });
  guardian.onDecision((x) => {
    if (x.incidentId) incidents.set(x.incidentId, x.tx.hash);
    timingsOf.set(x.tx.hash, x.timings);
    pending.push({
      hash: x.tx.hash,
      seenAt: x.tx.seenAt,
      timings: x.timings,
      simulation: {
        durationMs: x.simulation.durationMs,
        traceMs: x.simulation.traceMs,
        tracedBy: x.simulation.tracedBy,
        referencesReadAhead: x.simulation.referencesReadAhead,
        ...(x.simulation.atNode ? { atNode: true as const } : {}),
        success: x.simulation.success,
        error: x.simulation.error,
        ...(x.simulation.overlaid
          ? {
              overlaid: {
                forkHead: x.simulation.overlaid.forkHead.toString(),
                accounts: x.simulation.overlaid.accounts,
              },
            }
          : {}),
      },
      verdict: { decision: x.verdict.decision, score: x.verdict.score },
    });
    if (!x.incidentId) timingsOf.delete(x.tx.hash);
  });
  // A response's milestones (proof, bundle) land on the decision's timings after it was sent.
  // The guardian stamps a bundle's times right after telling listeners: read them a tick later.
  guardian.onResponse((incidentId) => {
    queueMicrotask(() => {
      const hash = incidents.get(incidentId);
      const timings = hash && timingsOf.get(hash);
      if (hash && timings) send({ type: "timings", hash, timings: { ...timings } });
    });
  });
  guardian.onResolved((r) =>
    send({ type: "resolved", hash: r.tx.hash, outcome: r.outcome, timings: { ...r.timings } }),
  );
  cpu0 = process.cpuUsage();
  loopDelay.reset();
  loopDelay.enable();
  measuringGc = true;
  send({ type: "ready" });
}

process.on("message", (m: HostRequest) => {
  void (async () => {
    try {
      if (m.type === "start") await start(m);
      else if (m.type === "stats") send({ type: "stats", stats: guardian?.stats(), usage: usage() });
      else if (m.type === "stop") {
        const final = usage();
        await stop();
        if (pending.length > 0) send({ type: "screened", items: pending });
        send({ type: "stopped", usage: final });
        process.disconnect?.();
      }
    } catch (error) {
      send({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
// The parent gone (killed benchmark): stop the guardian and its forks, leave no orphans.
process.on("disconnect", () => {
  void stop().finally(() => process.exit(0));
});
