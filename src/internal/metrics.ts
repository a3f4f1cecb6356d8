/**
 * Metrics and health for a daemon that runs 24/7: a small Prometheus registry (text exposition
 * format 0.0.4: counters, gauges, histograms with explicit buckets), an HTTP server with
 * `/metrics` and `/healthz`, the daemon's metric set (`createDaemonMetrics`) and its health rule
 * (`createDaemonHealth`).
 *
 * Updating a metric never throws: a wrong value (negative counter step, NaN) is ignored, because a
 * bookkeeping slip must never stop the guardian. Registration errors (bad or duplicate names) do
 * throw: they are programming errors found at start-up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError, InputError } from "./errors.ts";
import type { Logger } from "./logger.ts";

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/** Label values of one series, by label name. */
export type LabelSet<L extends string> = { readonly [K in L]: string };

export type Counter<L extends string = never> = {
  /** Adds `by` (default 1; negative or non-finite steps are ignored). */
  inc(labels?: LabelSet<L>, by?: number): void;
  get(labels?: LabelSet<L>): number;
};

export type Gauge<L extends string = never> = {
  set(value: number, labels?: LabelSet<L>): void;
  inc(labels?: LabelSet<L>, by?: number): void;
  dec(labels?: LabelSet<L>, by?: number): void;
  get(labels?: LabelSet<L>): number;
};

export type Histogram<L extends string = never> = {
  observe(value: number, labels?: LabelSet<L>): void;
  /** Cumulative bucket counts (one per bucket, then +Inf), sum and count of a series. */
  get(labels?: LabelSet<L>): { buckets: number[]; sum: number; count: number };
};

type MetricSpec<L extends string> = {
  /** `vigil_<area>_<name>`; counters end in `_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
};

export type Registry = {
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L>;
  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L>;
  histogram<L extends string = never>(spec: MetricSpec<L> & { buckets: readonly number[] }): Histogram<L>;
  /** Runs `fn` before every render: pull-style gauges (pool sizes, ages) are set there. */
  onCollect(fn: () => void): void;
  /** The Prometheus text exposition of every metric, collectors run first. */
  render(): string;
};

/** `Content-Type` of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Series = { labels: readonly string[]; value: number; buckets?: number[]; sum?: number };

type Family = {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  labelNames: readonly string[];
  /** Upper bounds without +Inf (histograms). */
  bounds: readonly number[];
  series: Map<string, Series>;
};

export function createRegistry(options: { logger?: Logger } = {}): Registry {
  const families = new Map<string, Family>();
  const collectors: (() => void)[] = [];

  function register(type: Family["type"], spec: MetricSpec<string>, bounds: readonly number[] = []): Family {
    if (!METRIC_NAME.test(spec.name)) throw new InputError(`invalid metric name "${spec.name}"`);
    if (families.has(spec.name)) throw new InputError(`metric ${spec.name} is registered twice`);
    if (type === "counter" && !spec.name.endsWith("_total")) {
      throw new InputError(`counter ${spec.name} must end in _total`);
    }
    const labelNames = [...(spec.labelNames ?? [])];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__") || (type === "histogram" && l === "le")) {
        throw new InputError(`metric ${spec.name} has an invalid label name "${l}"`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new InputError(`metric ${spec.name} lists a label twice`);
    }
    const family: Family = { name: spec.name, help: spec.help, type, labelNames, bounds, series: new Map() };
    families.set(spec.name, family);
    return family;
  }

  /** The series for a label set, created on first use; undefined if the labels do not fit. */
  function seriesOf(
    family: Family,
    labels: Readonly<Record<string, string>> | undefined,
  ): Series | undefined {
    const values: string[] = [];
    for (const name of family.labelNames) {
      const v = labels?.[name];
      if (typeof v !== "string") return undefined;
      values.push(v);
    }
    const key = values.join("\u0000");
    let series = family.series.get(key);
    if (!series) {
      series =
        family.type === "histogram"
          ? { labels: values, value: 0, buckets: new Array(family.bounds.length + 1).fill(0), sum: 0 }
          : { labels: values, value: 0 };
      family.series.set(key, series);
    }
    return series;
  }

  function step(by: number | undefined): number | undefined {
    const n = by ?? 1;
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  }

  return {
    counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
      const family = register("counter", spec);
      if (family.labelNames.length === 0) seriesOf(family, {});
      return {
        inc(labels, by) {
          const n = step(by);
          const s = seriesOf(family, labels);
          if (n !== undefined && s) s.value += n;
        },
        get: (labels) => seriesOf(family, labels)?.value ?? 0,
      };
    },

    gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
      const family = register("gauge", spec);
      if (family.labelNames.length === 0) seriesOf(family, {});
      return {
        set(value, labels) {
          const s = seriesOf(family, labels);
          if (s && !Number.isNaN(value)) s.value = value;
        },
        inc(labels, by) {
          const n = by ?? 1;
          const s = seriesOf(family, labels);
          if (s && Number.isFinite(n)) s.value += n;
        },
        dec(labels, by) {
          const n = by ?? 1;
          const s = seriesOf(family, labels);
          if (s && Number.isFinite(n)) s.value -= n;
        },
        get: (labels) => seriesOf(family, labels)?.value ?? 0,
      };
    },

    histogram<L extends string = never>(spec: MetricSpec<L> & { buckets: readonly number[] }): Histogram<L> {
      const bounds = [...spec.buckets];
      if (
        bounds.length === 0 ||
        bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (bounds[i - 1] ?? b)))
      ) {
        throw new InputError(`histogram ${spec.name} needs finite, strictly increasing buckets`);
      }
      const family = register("histogram", spec, bounds);
      if (family.labelNames.length === 0) seriesOf(family, {});
      return {
        observe(value, labels) {
          const s = seriesOf(family, labels);
          if (!s?.buckets || !Number.isFinite(value)) return;
          let i = bounds.findIndex((b) => value <= b);
          if (i === -1) i = bounds.length;
          s.buckets[i] = (s.buckets[i] ?? 0) + 1;
          s.sum = (s.sum ?? 0) + value;
          s.value += 1;
        },
        get(labels) {
          const s = seriesOf(family, labels);
          let running = 0;
          const buckets = (s?.buckets ?? new Array(bounds.length + 1).fill(0)).map((c) => (running += c));
          return { buckets, sum: s?.sum ?? 0, count: s?.value ?? 0 };
        },
      };
    },

    onCollect(fn) {
      collectors.push(fn);
    },

    render() {
      for (const fn of collectors) {
        try {
          fn();
        } catch (error) {
          options.logger?.warn({ err: describeError(error) }, "Metrics collector failed");
        }
      }
      const out: string[] = [];
      for (const f of families.values()) {
        out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
        for (const s of f.series.values()) {
          const pairs = f.labelNames.map((n, i) => [n, s.labels[i] ?? ""] as const);
          if (f.type !== "histogram") {
            out.push(`${f.name}${labelText(pairs)} ${formatNumber(s.value)}`);
            continue;
          }
          let running = 0;
          f.bounds.forEach((b, i) => {
            running += s.buckets?.[i] ?? 0;
            out.push(`${f.name}_bucket${labelText([...pairs, ["le", formatNumber(b)]])} ${running}`);
          });
          out.push(`${f.name}_bucket${labelText([...pairs, ["le", "+Inf"]])} ${s.value}`);
          out.push(`${f.name}_sum${labelText(pairs)} ${formatNumber(s.sum ?? 0)}`);
          out.push(`${f.name}_count${labelText(pairs)} ${s.value}`);
        }
      }
      return `${out.join("\n")}\n`;
    },
  };
}

function labelText(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

// ---------------------------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------------------------

export type HealthCheck = { ok: boolean; detail: string };
export type HealthReport = { healthy: boolean; checks: Record<string, HealthCheck> };

export type MetricsServerOptions = {
  /** 0 = any free port (tests); `config.metrics.port` 0 means "no server": do not call this then. */
  port: number;
  /** Default 127.0.0.1: the endpoints have no authentication. */
  host?: string;
  registry: Registry;
  health: () => HealthReport;
  logger?: Logger;
};

export type MetricsServer = {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
};

/**
 * Serves `GET /metrics` (Prometheus text) and `GET /healthz` (200 when healthy, 503 otherwise,
 * with `{ status, checks }` as JSON). Anything else is 404 (405 for other methods).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  const { registry, logger } = options;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, {
        "content-type": type,
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (path !== "/metrics" && path !== "/healthz") {
      send(404, "text/plain; charset=utf-8", "not found: try /metrics or /healthz\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    if (path === "/metrics") {
      let text: string;
      try {
        text = registry.render();
      } catch (error) {
        logger?.error({ err: describeError(error) }, "Failed to render metrics");
        send(500, "text/plain; charset=utf-8", "failed to render metrics\n");
        return;
      }
      send(200, PROMETHEUS_CONTENT_TYPE, text);
      return;
    }
    let report: HealthReport;
    try {
      report = options.health();
    } catch (error) {
      report = {
        healthy: false,
        checks: { health: { ok: false, detail: `check failed: ${describeError(error)}` } },
      };
    }
    const body = JSON.stringify({ status: report.healthy ? "ok" : "unhealthy", checks: report.checks });
    send(report.healthy ? 200 : 503, "application/json", `${body}\n`);
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new InputError(`Could not serve metrics on ${host}:${options.port}: ${error.code ?? error.message}`, {
          hint:
            error.code === "EADDRINUSE"
              ? "another process (a second Vigil?) uses the port: set metrics.port to a free port, or 0 to disable"
              : "check metrics.host is an address of this machine",
        }),
      );
    };
    server.once("error", onError);
    server.listen(options.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  logger?.info({ host, port }, "Serving /metrics and /healthz");

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The daemon's metric set
// ---------------------------------------------------------------------------------------------

/** Stage latency buckets, in milliseconds since the source first saw the transaction. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export type DecisionKind = "ignore" | "alert" | "pause";
export type PipelineStage = "simulated" | "scored" | "bundle_sent";

/** Cumulative counters of the mempool source (`MempoolSource.stats()`). */
export type SourceStatsLike = {
  seen: number;
  duplicates: number;
  evicted: number;
  malformed: number;
  reconnects: number;
  queued: number;
  caughtUp: number;
};

/** `ForkPool.health()`. */
export type ForkPoolHealthLike = {
  forks: number;
  idle: number;
  atHead: number;
  head: bigint;
  resets: number;
  resetFailures: number;
};

export type HeadLike = { number: bigint; timestamp: bigint; seenAt: number };

export type DaemonMetrics = ReturnType<typeof createDaemonMetrics>;

/**
 * The metrics the guardian daemon exposes. Push-style handles are updated where things happen
 * (screened, decisions, latencies, bundles); pull-style ones are read from the components at
 * every scrape once bound with `bindSource` / `bindForkPool`.
 */
export function createDaemonMetrics(
  registry: Registry,
  options: { version?: string; now?: () => number } = {},
) {
  const now = options.now ?? Date.now;
  const startedAt = now();

  // Source: cumulative counters copied from source.stats() at scrape time.
  const sourceSeen = registry.counter({
    name: "vigil_source_pending_seen_total",
    help: "Pending transactions received from the node (subscription and txpool catch-up), duplicates included.",
  });
  const sourceDuplicates = registry.counter({
    name: "vigil_source_duplicates_total",
    help: "Pending transactions received more than once and ignored.",
  });
  const sourceEvicted = registry.counter({
    name: "vigil_source_evicted_total",
    help: "Pending transactions dropped from a full queue (the least dangerous first).",
  });
  const sourceMalformed = registry.counter({
    name: "vigil_source_malformed_total",
    help: "Messages from the node that could not be parsed.",
  });
  const sourceReconnects = registry.counter({
    name: "vigil_source_reconnects_total",
    help: "WebSocket reconnections to the node.",
  });
  const sourceCaughtUp = registry.counter({
    name: "vigil_source_caught_up_total",
    help: "Pending transactions found by txpool_content catch-ups after a (re)connect.",
  });
  const sourceQueued = registry.gauge({
    name: "vigil_source_queue_length",
    help: "Pending transactions waiting for simulation.",
  });
  const sourceConnected = registry.gauge({
    name: "vigil_source_connected",
    help: "1 while the mempool subscription's socket is open, else 0.",
  });
  const headBlock = registry.gauge({
    name: "vigil_chain_head_block",
    help: "Number of the newest block seen.",
  });
  const headAge = registry.gauge({
    name: "vigil_chain_head_age_seconds",
    help: "Seconds since the newest block was seen (-1 before the first one).",
  });

  // Pipeline: pushed by the daemon.
  const screened = registry.counter({
    name: "vigil_pipeline_screened_total",
    help: "Transactions simulated and scored.",
  });
  const skipped = registry.counter({
    name: "vigil_pipeline_skipped_total",
    help: "Transactions skipped by the prefilter (no calldata, or sent by the sentinel).",
  });
  const failed = registry.counter({
    name: "vigil_pipeline_failed_total",
    help: "Transactions whose screening threw an error.",
  });
  const simulated = registry.counter<"result">({
    name: "vigil_simulator_simulations_total",
    help: "Fork simulations, by result (success, reverted).",
    labelNames: ["result"],
  });
  const simulationDuration = registry.histogram({
    name: "vigil_simulator_duration_milliseconds",
    help: "Duration of one fork simulation, in milliseconds.",
    buckets: LATENCY_BUCKETS_MS,
  });
  const stageLatency = registry.histogram<"stage">({
    name: "vigil_pipeline_stage_latency_milliseconds",
    help: "Milliseconds from first sight of a pending transaction to a stage (simulated, scored, bundle_sent).",
    labelNames: ["stage"],
    buckets: LATENCY_BUCKETS_MS,
  });
  const decisions = registry.counter<"kind">({
    name: "vigil_scorer_decisions_total",
    help: "Decisions of the scorer, by kind (ignore, alert, pause).",
    labelNames: ["kind"],
  });

  // Response.
  const bundlesSent = registry.counter<"relay">({
    name: "vigil_response_bundles_sent_total",
    help: "Pause bundles a relay accepted, by relay.",
    labelNames: ["relay"],
  });
  const relayErrors = registry.counter<"relay">({
    name: "vigil_response_relay_errors_total",
    help: "Pause bundles a relay refused or failed to answer, by relay.",
    labelNames: ["relay"],
  });
  const bundlesLanded = registry.counter({
    name: "vigil_response_bundles_landed_total",
    help: 'Pauses that landed on chain (incident outcome "paused").',
  });
  const outcomes = registry.counter<"outcome">({
    name: "vigil_response_outcomes_total",
    help: "Resolved incidents by outcome (paused, attack-mined-first, attack-dropped, not-sent, failed, shadow).",
    labelNames: ["outcome"],
  });

  // Alerts.
  const alertDeliveries = registry.counter<"format" | "result">({
    name: "vigil_alerts_deliveries_total",
    help: "Alert deliveries to webhooks by format and result (delivered, rejected, gave_up).",
    labelNames: ["format", "result"],
  });

  // Fork pool: copied from forks.health() at scrape time.
  const forkSize = registry.gauge({ name: "vigil_forks_size", help: "Forked nodes in the simulation pool." });
  const forkIdle = registry.gauge({ name: "vigil_forks_idle", help: "Forks idle (not simulating) now." });
  const forkAtHead = registry.gauge({
    name: "vigil_forks_at_head",
    help: "Forks whose state is at the newest head.",
  });
  const forkResets = registry.counter({
    name: "vigil_forks_resets_total",
    help: "Fork resets to a new head.",
  });
  const forkResetFailures = registry.counter({
    name: "vigil_forks_reset_failures_total",
    help: "Fork resets that failed.",
  });
  const cacheReads = registry.counter({
    name: "vigil_state_cache_reads_total",
    help: "Forks' upstream state reads through the state cache, by result (hit: answered from memory).",
    labelNames: ["result"],
  });
  const cachePrefetched = registry.counter({
    name: "vigil_state_cache_prefetched_total",
    help: "State values the cache read ahead at new heads (the hot set).",
  });
  const cacheOverlayReads = registry.counter({
    name: "vigil_state_cache_overlay_reads_total",
    help:
      "Reads at the newest head for a dangerous call to a new or cold contract, by how (prestate: its state in " +
      "one debug_traceCall; access_list: eth_createAccessList and a batch; call_tree: the node's trace of it, " +
      "to screen it on the node or spare the fork its trace) and result (failed: the state read failed and " +
      "the call waits for a fork at the head; a failed call tree falls back to the fork).",
    labelNames: ["how", "result"],
  });

  // Process.
  const buildInfo = registry.gauge<"version">({
    name: "vigil_build_info",
    help: "Always 1; the version label names the running code.",
    labelNames: ["version"],
  });
  buildInfo.set(1, { version: options.version ?? "unknown" });
  const uptime = registry.gauge({ name: "vigil_process_uptime_seconds", help: "Seconds since start." });
  const rss = registry.gauge({
    name: "vigil_process_resident_memory_bytes",
    help: "Resident memory of the process.",
  });
  const heap = registry.gauge({ name: "vigil_process_heap_used_bytes", help: "V8 heap in use." });

  // Series that exist from the start, so rate() and dashboards see zeros rather than gaps.
  for (const kind of ["ignore", "alert", "pause"] as const) decisions.inc({ kind }, 0);
  for (const result of ["success", "reverted"] as const) simulated.inc({ result }, 0);
  for (const outcome of ["paused", "attack-mined-first", "attack-dropped", "not-sent", "failed", "shadow"]) {
    outcomes.inc({ outcome }, 0);
  }

  /** Copies a cumulative total into a counter (counters only go up: a smaller total is a restart). */
  const syncTotal = <L extends string = never>(counter: Counter<L>, total: number, labels?: LabelSet<L>) => {
    const delta = total - counter.get(labels);
    if (delta > 0) counter.inc(labels, delta);
  };

  let lastHead: HeadLike | undefined;
  registry.onCollect(() => {
    uptime.set((now() - startedAt) / 1000);
    const mem = process.memoryUsage();
    rss.set(mem.rss);
    heap.set(mem.heapUsed);
  });

  return {
    // Push-style handles.
    screened,
    skipped,
    failed,
    simulated,
    simulationDuration,
    stageLatency,
    decisions,
    bundlesSent,
    relayErrors,
    bundlesLanded,
    outcomes,
    alertDeliveries,
    // Pull-style gauges and counters (normally set by the bind* functions).
    source: {
      seen: sourceSeen,
      duplicates: sourceDuplicates,
      evicted: sourceEvicted,
      malformed: sourceMalformed,
      reconnects: sourceReconnects,
      caughtUp: sourceCaughtUp,
      queued: sourceQueued,
      connected: sourceConnected,
    },
    head: { block: headBlock, ageSeconds: headAge },
    forks: {
      size: forkSize,
      idle: forkIdle,
      atHead: forkAtHead,
      resets: forkResets,
      resetFailures: forkResetFailures,
    },

    /** Records one screened transaction: the simulation, the decision and the stage latencies. */
    recordScreening(s: {
      simulationSuccess: boolean;
      simulationMs: number;
      decision: DecisionKind;
      simulatedMs?: number;
      scoredMs?: number;
    }): void {
      screened.inc();
      simulated.inc({ result: s.simulationSuccess ? "success" : "reverted" });
      simulationDuration.observe(s.simulationMs);
      decisions.inc({ kind: s.decision });
      if (s.simulatedMs !== undefined) stageLatency.observe(s.simulatedMs, { stage: "simulated" });
      if (s.scoredMs !== undefined) stageLatency.observe(s.scoredMs, { stage: "scored" });
    },

    /** Records a relay's answer to a pause bundle; `sinceSeenMs` only for the incident's first bundle. */
    recordBundle(b: { relay: string; error?: string; sinceSeenMs?: number }): void {
      if (b.error) relayErrors.inc({ relay: b.relay });
      else bundlesSent.inc({ relay: b.relay });
      if (b.sinceSeenMs !== undefined && !b.error)
        stageLatency.observe(b.sinceSeenMs, { stage: "bundle_sent" });
    },

    /** Records how an incident ended. */
    recordOutcome(outcome: string): void {
      outcomes.inc({ outcome });
      if (outcome === "paused") bundlesLanded.inc();
    },

    /** Reads the source's counters, connection and head at every scrape. */
    bindSource(source: {
      stats(): SourceStatsLike;
      connected(): boolean;
      latestHead(): HeadLike | undefined;
    }): void {
      registry.onCollect(() => {
        const s = source.stats();
        syncTotal(sourceSeen, s.seen);
        syncTotal(sourceDuplicates, s.duplicates);
        syncTotal(sourceEvicted, s.evicted);
        syncTotal(sourceMalformed, s.malformed);
        syncTotal(sourceReconnects, s.reconnects);
        syncTotal(sourceCaughtUp, s.caughtUp);
        sourceQueued.set(s.queued);
        sourceConnected.set(source.connected() ? 1 : 0);
        const head = source.latestHead();
        if (head) lastHead = head;
        headBlock.set(lastHead ? Number(lastHead.number) : 0);
        headAge.set(lastHead ? Math.max(0, (now() - lastHead.seenAt) / 1000) : -1);
      });
    },

    /** Reads the fork pool's health at every scrape. */
    bindForkPool(pool: { health(): ForkPoolHealthLike }): void {
      registry.onCollect(() => {
        const h = pool.health();
        forkSize.set(h.forks);
        forkIdle.set(h.idle);
        forkAtHead.set(h.atHead);
        syncTotal(forkResets, h.resets);
        syncTotal(forkResetFailures, h.resetFailures);
      });
    },
    bindStateCache(cache: {
      stats(): Record<
        | "hits"
        | "misses"
        | "prefetched"
        | "prestates"
        | "prestateFailures"
        | "accessLists"
        | "accessListFailures"
        | "callTrees"
        | "callTreeFailures",
        number
      >;
    }): void {
      registry.onCollect(() => {
        const s = cache.stats();
        syncTotal(cacheReads, s.hits, { result: "hit" });
        syncTotal(cacheReads, s.misses, { result: "miss" });
        syncTotal(cachePrefetched, s.prefetched);
        syncTotal(cacheOverlayReads, s.prestates - s.prestateFailures, { how: "prestate", result: "ok" });
        syncTotal(cacheOverlayReads, s.prestateFailures, { how: "prestate", result: "failed" });
        syncTotal(cacheOverlayReads, s.accessLists - s.accessListFailures, {
          how: "access_list",
          result: "ok",
        });
        syncTotal(cacheOverlayReads, s.accessListFailures, { how: "access_list", result: "failed" });
        syncTotal(cacheOverlayReads, s.callTrees - s.callTreeFailures, { how: "call_tree", result: "ok" });
        syncTotal(cacheOverlayReads, s.callTreeFailures, { how: "call_tree", result: "failed" });
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The daemon's health rule
// ---------------------------------------------------------------------------------------------

export type DaemonHealthOptions = {
  /** Whether the mempool subscription is open (`MempoolSource.connected`). */
  sourceConnected: () => boolean;
  /** The newest head (`MempoolSource.latestHead`); `seenAt` is epoch ms. */
  latestHead: () => HeadLike | undefined;
  /** A head older than this makes the daemon unhealthy (default 60 s). */
  maxHeadAgeSeconds?: number;
  /** More checks; each failing one also makes the daemon unhealthy. */
  extraChecks?: Record<string, () => HealthCheck>;
  now?: () => number;
};

/**
 * The rule behind `/healthz`: unhealthy when the mempool source is disconnected, or when no new
 * head arrived for `maxHeadAgeSeconds` (the node, or our view of it, is stuck). Before the first
 * head the daemon gets `maxHeadAgeSeconds` of grace from the moment this is created.
 */
export function createDaemonHealth(options: DaemonHealthOptions): () => HealthReport {
  const now = options.now ?? Date.now;
  const maxAge = options.maxHeadAgeSeconds ?? 60;
  const createdAt = now();
  return () => {
    const checks: Record<string, HealthCheck> = {};
    const connected = options.sourceConnected();
    checks.source = connected
      ? { ok: true, detail: "mempool subscription connected" }
      : { ok: false, detail: "mempool subscription disconnected (reconnecting)" };
    const head = options.latestHead();
    if (!head) {
      const waited = (now() - createdAt) / 1000;
      checks.head =
        waited <= maxAge
          ? { ok: true, detail: `no head yet (waiting ${waited.toFixed(0)} s of ${maxAge} s)` }
          : { ok: false, detail: `no head seen in ${waited.toFixed(0)} s (limit ${maxAge} s)` };
    } else {
      const age = Math.max(0, (now() - head.seenAt) / 1000);
      checks.head = {
        ok: age <= maxAge,
        detail: `block ${head.number} seen ${age.toFixed(1)} s ago (limit ${maxAge} s)`,
      };
    }
    for (const [name, check] of Object.entries(options.extraChecks ?? {})) {
      try {
        checks[name] = check();
      } catch (error) {
        checks[name] = { ok: false, detail: `check failed: ${describeError(error)}` };
      }
    }
    return { healthy: Object.values(checks).every((c) => c.ok), checks };
  };
}
