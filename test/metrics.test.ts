import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { ConfigError, METRICS_DEFAULTS, metricsSettings, parseConfig } from "../src/internal/config.ts";
import { silentLogger } from "../src/internal/logger.ts";
import {
  createDaemonHealth,
  createDaemonMetrics,
  createRegistry,
  escapeLabelValue,
  type HealthReport,
  LATENCY_BUCKETS_MS,
  type MetricsServer,
  PROMETHEUS_CONTENT_TYPE,
  startMetricsServer,
} from "../src/internal/metrics.ts";
import { createMempoolSource } from "../src/source/source.ts";

/** Parses Prometheus text into `name{labels}` -> value, checking every sample line's shape. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const families = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") families.set(meta[2] ?? "", meta[3] ?? "");
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const value = m[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== "NaN") throw new Error(`bad value in: ${line}`);
    const family = (m[1] ?? "").replace(/_(bucket|sum|count)$/, "");
    if (!families.has(m[1] ?? "") && !families.has(family))
      throw new Error(`sample before its TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, value);
  }
  return samples;
}

describe("the Prometheus registry", () => {
  it("renders counters, gauges and histograms with HELP and TYPE lines", () => {
    const r = createRegistry();
    const c = r.counter({ name: "vigil_test_events_total", help: "Events." });
    const g = r.gauge<"pool">({
      name: "vigil_test_size",
      help: "Size\nof a pool \\ here.",
      labelNames: ["pool"],
    });
    const h = r.histogram({ name: "vigil_test_latency_milliseconds", help: "Latency.", buckets: [1, 5, 10] });
    c.inc();
    c.inc(undefined, 2);
    g.set(3, { pool: "a" });
    g.inc({ pool: "b" });
    g.dec({ pool: "b" }, 0.5);
    for (const v of [0.5, 1, 4, 7, 12]) h.observe(v);
    expect(r.render()).toBe(
      [
        "# HELP vigil_test_events_total Events.",
        "# TYPE vigil_test_events_total counter",
        "vigil_test_events_total 3",
        "# HELP vigil_test_size Size\\nof a pool \\\\ here.",
        "# TYPE vigil_test_size gauge",
        'vigil_test_size{pool="a"} 3',
        'vigil_test_size{pool="b"} 0.5',
        "# HELP vigil_test_latency_milliseconds Latency.",
        "# TYPE vigil_test_latency_milliseconds histogram",
        'vigil_test_latency_milliseconds_bucket{le="1"} 2',
        'vigil_test_latency_milliseconds_bucket{le="5"} 3',
        'vigil_test_latency_milliseconds_bucket{le="10"} 4',
        'vigil_test_latency_milliseconds_bucket{le="+Inf"} 5',
        "vigil_test_latency_milliseconds_sum 24.5",
        "vigil_test_latency_milliseconds_count 5",
        "",
      ].join("\n"),
    );
    expect(h.get()).toEqual({ buckets: [2, 3, 4, 5], sum: 24.5, count: 5 });
  });

  it("escapes label values (backslash, quote, newline) and keeps label order", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const r = createRegistry();
    const c = r.counter<"relay" | "kind">({
      name: "vigil_test_errors_total",
      help: "Errors.",
      labelNames: ["relay", "kind"],
    });
    c.inc({ kind: "x", relay: 'flash"bots\\\n' });
    expect(r.render()).toContain('vigil_test_errors_total{relay="flash\\"bots\\\\\\n",kind="x"} 1');
    expect(parseExposition(r.render()).size).toBe(1);
  });

  it("never throws on a bad update, and refuses bad registrations", () => {
    const r = createRegistry();
    const c = r.counter<"k">({ name: "vigil_test_a_total", help: "A.", labelNames: ["k"] });
    c.inc({ k: "x" }, -1);
    c.inc({ k: "x" }, Number.NaN);
    c.inc({} as { k: string });
    expect(c.get({ k: "x" })).toBe(0);
    const g = r.gauge({ name: "vigil_test_g", help: "G." });
    g.set(Number.NaN);
    expect(g.get()).toBe(0);
    expect(() => r.counter({ name: "vigil_test_a_total", help: "again" })).toThrow(/registered twice/);
    expect(() => r.counter({ name: "vigil_test_b", help: "no suffix" })).toThrow(/must end in _total/);
    expect(() => r.gauge({ name: "vigil-test", help: "dash" })).toThrow(/invalid metric name/);
    expect(() => r.histogram({ name: "vigil_test_h", help: "h", buckets: [5, 1] })).toThrow(/increasing/);
    expect(() => r.histogram({ name: "vigil_test_h2", help: "h", buckets: [1], labelNames: ["le"] })).toThrow(
      /invalid label name "le"/,
    );
  });

  it("runs collectors at render time, and survives one that throws", () => {
    const r = createRegistry();
    const g = r.gauge({ name: "vigil_test_pulled", help: "Pulled." });
    let n = 0;
    r.onCollect(() => {
      throw new Error("broken collector");
    });
    r.onCollect(() => g.set(++n));
    expect(r.render()).toContain("vigil_test_pulled 1");
    expect(r.render()).toContain("vigil_test_pulled 2");
  });
});

describe("the daemon's metric set", () => {
  it("exposes every metric under vigil_<area>_<name>, with zeros before anything happened", () => {
    const r = createRegistry();
    createDaemonMetrics(r, { version: "vigil-test" });
    const samples = parseExposition(r.render());
    for (const name of [
      "vigil_source_pending_seen_total",
      "vigil_source_evicted_total",
      "vigil_source_queue_length",
      "vigil_source_connected",
      "vigil_chain_head_age_seconds",
      "vigil_pipeline_screened_total",
      "vigil_pipeline_skipped_total",
      'vigil_simulator_simulations_total{result="success"}',
      'vigil_scorer_decisions_total{kind="pause"}',
      'vigil_response_outcomes_total{outcome="paused"}',
      "vigil_response_bundles_landed_total",
      "vigil_forks_size",
      "vigil_forks_at_head",
      'vigil_build_info{version="vigil-test"}',
    ]) {
      expect(samples.has(name), name).toBe(true);
    }
    for (const key of samples.keys()) expect(key).toMatch(/^vigil_[a-z0-9]+_[a-z0-9_]+/);
  });

  it("records screenings, latencies, bundles and outcomes; pulls source and fork pool state", () => {
    let clock = 1_000_000;
    const r = createRegistry();
    const m = createDaemonMetrics(r, { now: () => clock });
    m.recordScreening({
      simulationSuccess: true,
      simulationMs: 12,
      decision: "ignore",
      simulatedMs: 14,
      scoredMs: 15,
    });
    m.recordScreening({
      simulationSuccess: false,
      simulationMs: 3,
      decision: "pause",
      simulatedMs: 4,
      scoredMs: 4.5,
    });
    m.skipped.inc();
    m.recordBundle({ relay: "flashbots", sinceSeenMs: 30 });
    m.recordBundle({ relay: "titan", error: "HTTP 503" });
    m.recordOutcome("paused");
    m.alertDeliveries.inc({ format: "slack", result: "delivered" });
    const stats = {
      seen: 10,
      duplicates: 2,
      evicted: 1,
      malformed: 0,
      reconnects: 1,
      queued: 3,
      caughtUp: 4,
    };
    m.bindSource({
      stats: () => stats,
      connected: () => true,
      latestHead: () => ({ number: 42n, timestamp: 0n, seenAt: 1_000_000 - 2500 }),
    });
    m.bindForkPool({
      health: () => ({
        forks: 2,
        idle: 1,
        atHead: 2,
        head: 42n,
        resets: 7,
        resetFailures: 1,
      }),
    });
    let s = parseExposition(r.render());
    expect(s.get("vigil_pipeline_screened_total")).toBe(2);
    expect(s.get("vigil_pipeline_skipped_total")).toBe(1);
    expect(s.get('vigil_simulator_simulations_total{result="reverted"}')).toBe(1);
    expect(s.get('vigil_scorer_decisions_total{kind="pause"}')).toBe(1);
    expect(s.get('vigil_scorer_decisions_total{kind="ignore"}')).toBe(1);
    expect(s.get('vigil_pipeline_stage_latency_milliseconds_bucket{stage="simulated",le="5"}')).toBe(1);
    expect(s.get('vigil_pipeline_stage_latency_milliseconds_bucket{stage="simulated",le="20"}')).toBe(2);
    expect(s.get('vigil_pipeline_stage_latency_milliseconds_count{stage="scored"}')).toBe(2);
    expect(s.get('vigil_pipeline_stage_latency_milliseconds_bucket{stage="bundle_sent",le="50"}')).toBe(1);
    expect(s.get('vigil_response_bundles_sent_total{relay="flashbots"}')).toBe(1);
    expect(s.get('vigil_response_relay_errors_total{relay="titan"}')).toBe(1);
    expect(s.get("vigil_response_bundles_landed_total")).toBe(1);
    expect(s.get('vigil_alerts_deliveries_total{format="slack",result="delivered"}')).toBe(1);
    expect(s.get("vigil_source_pending_seen_total")).toBe(10);
    expect(s.get("vigil_source_queue_length")).toBe(3);
    expect(s.get("vigil_source_connected")).toBe(1);
    expect(s.get("vigil_chain_head_block")).toBe(42);
    expect(s.get("vigil_chain_head_age_seconds")).toBe(2.5);
    expect(s.get("vigil_forks_idle")).toBe(1);
    expect(s.get("vigil_forks_resets_total")).toBe(7);
    // Cumulative totals keep growing; a smaller one (a restarted source) never lowers a counter.
    stats.seen = 15;
    clock += 1000;
    s = parseExposition(r.render());
    expect(s.get("vigil_source_pending_seen_total")).toBe(15);
    expect(s.get("vigil_chain_head_age_seconds")).toBe(3.5);
    stats.seen = 1;
    expect(parseExposition(r.render()).get("vigil_source_pending_seen_total")).toBe(15);
    expect([...LATENCY_BUCKETS_MS]).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
  });
});

describe("the health rule", () => {
  it("is unhealthy when the source is disconnected or the head is stale", () => {
    let clock = 0;
    let connected = true;
    let head: { number: bigint; timestamp: bigint; seenAt: number } | undefined;
    const health = createDaemonHealth({
      sourceConnected: () => connected,
      latestHead: () => head,
      maxHeadAgeSeconds: 30,
      now: () => clock,
    });
    // Grace before the first head.
    expect(health()).toMatchObject({ healthy: true, checks: { head: { ok: true } } });
    clock = 31_000;
    expect(health()).toMatchObject({
      healthy: false,
      checks: { head: { ok: false, detail: expect.stringMatching(/no head seen in 31 s/) } },
    });
    head = { number: 5n, timestamp: 0n, seenAt: 30_000 };
    expect(health().healthy).toBe(true);
    clock = 61_000;
    expect(health()).toMatchObject({
      healthy: false,
      checks: { head: { ok: false, detail: "block 5 seen 31.0 s ago (limit 30 s)" } },
    });
    head = { number: 6n, timestamp: 0n, seenAt: 60_000 };
    connected = false;
    expect(health()).toMatchObject({ healthy: false, checks: { source: { ok: false }, head: { ok: true } } });
  });
});

describe("the metrics server over HTTP", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves /metrics, /healthz (200/503 with JSON), 404 and 405", async () => {
    const registry = createRegistry();
    const m = createDaemonMetrics(registry);
    m.screened.inc();
    let report: HealthReport = { healthy: true, checks: { source: { ok: true, detail: "connected" } } };
    server = await startMetricsServer({ port: 0, registry, health: () => report });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(parseExposition(await metrics.text()).get("vigil_pipeline_screened_total")).toBe(1);

    let healthz = await fetch(`${server.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({
      status: "ok",
      checks: { source: { ok: true, detail: "connected" } },
    });

    report = { healthy: false, checks: { source: { ok: false, detail: "disconnected" } } };
    healthz = await fetch(`${server.url}/healthz`);
    expect(healthz.status).toBe(503);
    expect(await healthz.json()).toEqual({
      status: "unhealthy",
      checks: { source: { ok: false, detail: "disconnected" } },
    });

    const failing = await startMetricsServer({
      port: 0,
      registry,
      health: () => {
        throw new Error("boom");
      },
    });
    const crashed = await fetch(`${failing.url}/healthz`);
    expect(crashed.status).toBe(503);
    expect(await crashed.json()).toMatchObject({ status: "unhealthy", checks: { health: { ok: false } } });
    await failing.close();

    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: "POST" })).status).toBe(405);
    const head = await fetch(`${server.url}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("explains a port in use", async () => {
    const registry = createRegistry();
    server = await startMetricsServer({ port: 0, registry, health: () => ({ healthy: true, checks: {} }) });
    await expect(
      startMetricsServer({ port: server.port, registry, health: () => ({ healthy: true, checks: {} }) }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("metrics and health of a real mempool source on a devnet", () => {
  let net: RunningDevnet;
  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("is healthy while the source is connected and fresh, and unhealthy once it stops", async () => {
    const source = createMempoolSource({
      wsUrl: net.anvil.wsUrl,
      httpUrl: net.anvil.rpcUrl,
      logger: silentLogger(),
    });
    await source.start();
    const registry = createRegistry();
    const metrics = createDaemonMetrics(registry);
    metrics.bindSource(source);
    const health = createDaemonHealth({
      sourceConnected: () => source.connected(),
      latestHead: () => source.latestHead(),
      maxHeadAgeSeconds: 60,
    });
    const server = await startMetricsServer({ port: 0, registry, health });
    try {
      await net.buildBlock();
      for (let i = 0; i < 100 && source.latestHead() === undefined; i++)
        await new Promise((r) => setTimeout(r, 20));
      const ok = await fetch(`${server.url}/healthz`);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
      expect(body.checks.source).toEqual({ ok: true, detail: "mempool subscription connected" });
      expect(body.checks.head?.detail).toMatch(/^block \d+ seen/);
      const samples = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      expect(samples.get("vigil_source_connected")).toBe(1);
      expect(samples.get("vigil_chain_head_block")).toBeGreaterThan(0);

      await source.stop();
      const down = await fetch(`${server.url}/healthz`);
      expect(down.status).toBe(503);
      expect(
        parseExposition(await (await fetch(`${server.url}/metrics`)).text()).get("vigil_source_connected"),
      ).toBe(0);
    } finally {
      await source.stop();
      await server.close();
    }
  });
});

describe("config: the metrics section", () => {
  const minimal = (): Record<string, unknown> => ({
    chain: { rpcUrl: "http://127.0.0.1:8545", wsUrl: "ws://127.0.0.1:8545", chainId: 31337 },
    guardian: "0x322813Fd9A801c5507c9de605d63CEA4f2CE6c44",
    targets: [{ address: "0xa85233C63b9Ee964Add6F2cffe00Fd84eb32338f" }],
    sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
    relays: [{ url: "http://127.0.0.1:8550" }],
  });

  it("defaults to 127.0.0.1:9464, absent from the resolved config unless written", () => {
    const config = parseConfig(minimal());
    expect(config.metrics).toBeUndefined();
    expect(metricsSettings(config)).toEqual({ port: 9464, host: "127.0.0.1" });
    expect(METRICS_DEFAULTS).toEqual({ port: 9464, host: "127.0.0.1" });
    const partial = parseConfig({ ...minimal(), metrics: { port: 0 } });
    expect(partial.metrics).toEqual({ port: 0, host: "127.0.0.1" });
    expect(metricsSettings(parseConfig({ ...minimal(), metrics: { host: "10.0.0.5", port: 9100 } }))).toEqual(
      {
        port: 9100,
        host: "10.0.0.5",
      },
    );
  });

  it("rejects a bad port or an unknown field with one sentence each", () => {
    try {
      parseConfig({ ...minimal(), metrics: { port: 70000, hots: "x" } }, "vigil.json");
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'unknown field "hots" in metrics (did you mean "host"?)',
        "metrics.port must be from 0 to 65535, got 70000",
      ]);
    }
  });
});
