import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Hex } from "viem";
import { afterEach, describe, expect, it } from "vitest";
import { type Alert, type AlerterOptions, createAlerter, parseRetryAfter } from "../src/record/alerts.ts";

type Received = { path: string; headers: IncomingMessage["headers"]; body: Record<string, unknown> };
type Handler = (req: Received, res: ServerResponse, n: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** A webhook receiver on a free port; `handler` answers request n (0-based). */
async function receiver(handler: Handler = (_req, res) => res.end("ok")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry = {
        path: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      };
      received.push(entry);
      handler(entry, res, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { received, origin: `http://127.0.0.1:${port}` };
}

/** A pino logger writing JSON lines into memory. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: "debug", base: null }, stream);
  const records = () =>
    lines
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, text: () => lines.join(""), records };
}

const ID = `0x${"ab".repeat(32)}` as Hex;
function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    incidentId: ID,
    severity: "pause",
    title: "Flash-loan price manipulation against LendingMarket",
    score: 0.97,
    reasons: [{ rule: "oracle-swing", contribution: 0.6, detail: "spot price read 4.1x the reference" }],
    txHash: `0x${"cd".repeat(32)}`,
    targets: ["0x2222222222222222222222222222222222222222"],
    valueAtRisk: "1500000000000000000000",
    recordPath: "/var/lib/vigil/incidents.jsonl",
    at: 1_700_000_000_000,
    ...overrides,
  };
}

function alerter(webhooks: AlerterOptions["webhooks"], extra: Partial<AlerterOptions> = {}) {
  const log = capturingLogger();
  const instance = createAlerter({ webhooks, logger: log.logger, retry: { baseDelayMs: 5 }, ...extra });
  return { ...instance, log };
}

describe("alerts to webhooks", () => {
  it("posts the generic JSON body", async () => {
    const hook = await receiver();
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    a.notify(alert({ outcome: "paused" }));
    await a.flush();
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    expect(got?.path).toBe("/hook");
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(got?.body).toEqual({ source: "vigil", version: 1, ...alert({ outcome: "paused" }) });
    expect(a.log.records().find((r) => r.msg === "Delivered alert")).toMatchObject({
      status: 200,
      attempt: 1,
    });
  });

  it("retries a 500 and delivers once", async () => {
    const hook = await receiver((_req, res, n) => {
      res.statusCode = n === 0 ? 500 : 200;
      res.end();
    });
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    a.notify(alert());
    await a.flush();
    expect(hook.received).toHaveLength(2);
    expect(a.log.records().filter((r) => r.msg === "Delivered alert")).toHaveLength(1);
    // The alert is now marked sent: notifying it again sends nothing.
    a.notify(alert());
    await a.flush();
    expect(hook.received).toHaveLength(2);
  });

  it("honours Retry-After on 429, capped by maxDelayMs", async () => {
    const hook = await receiver((_req, res, n) => {
      res.statusCode = n === 0 ? 429 : 200;
      if (n === 0) res.setHeader("retry-after", "1");
      res.end();
    });
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    const started = Date.now();
    a.notify(alert());
    await a.flush();
    expect(hook.received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);

    const capped = await receiver((_req, res, n) => {
      res.statusCode = n === 0 ? 429 : 200;
      if (n === 0) res.setHeader("retry-after", "3600");
      res.end();
    });
    const b = alerter([{ url: `${capped.origin}/hook` }], { retry: { baseDelayMs: 5, maxDelayMs: 50 } });
    const t0 = Date.now();
    b.notify(alert());
    await b.flush();
    expect(capped.received).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });

  it("does not retry a 400, and logs the status", async () => {
    const hook = await receiver((_req, res) => {
      res.statusCode = 400;
      res.end("bad payload");
    });
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    a.notify(alert());
    await a.flush();
    expect(hook.received).toHaveLength(1);
    const warn = a.log.records().find((r) => r.level === 40);
    expect(warn).toMatchObject({ status: 400, webhook: hook.origin });
  });

  it("gives up after the configured attempts and warns", async () => {
    const hook = await receiver((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const a = alerter([{ url: `${hook.origin}/hook` }], { retry: { attempts: 3, baseDelayMs: 1 } });
    a.notify(alert());
    await a.flush();
    expect(hook.received).toHaveLength(3);
    expect(a.log.records().find((r) => r.msg === "Gave up delivering an alert")).toMatchObject({
      level: 40,
      attempts: 3,
      last_error: "HTTP 503",
    });
  });

  it("retries network errors and timeouts", async () => {
    // Nothing listens on this port once the server is closed.
    const gone = await receiver();
    const closed = servers.pop();
    await new Promise<void>((r) => closed?.close(() => r()));
    const hang = await receiver(() => {
      /* never answers */
    });
    const a = alerter([{ url: `${gone.origin}/x` }, { url: `${hang.origin}/y` }], {
      retry: { attempts: 2, baseDelayMs: 1 },
      timeoutMs: 100,
    });
    a.notify(alert());
    await a.flush();
    expect(hang.received).toHaveLength(2);
    const gaveUp = a.log.records().filter((r) => r.msg === "Gave up delivering an alert");
    expect(gaveUp.map((r) => r.webhook).sort()).toEqual([gone.origin, hang.origin].sort());
  });

  it("sends the same (incident, severity, outcome) once per webhook", async () => {
    const hook = await receiver();
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    a.notify(alert());
    a.notify(alert());
    a.notify(alert({ incidentId: ID.toUpperCase().replace("0X", "0x") as Hex }));
    a.notify(alert({ outcome: "paused" }));
    a.notify(alert({ severity: "alert" }));
    await a.flush();
    a.notify(alert({ outcome: "paused" }));
    await a.flush();
    expect(hook.received.map((r) => [r.body.severity, r.body.outcome])).toEqual([
      ["pause", undefined],
      ["pause", "paused"],
      ["alert", undefined],
    ]);
  });

  it("routes by minSeverity", async () => {
    const all = await receiver();
    const pagers = await receiver();
    const a = alerter([
      { url: `${all.origin}/all` },
      { url: `${pagers.origin}/pager`, minSeverity: "pause" },
    ]);
    a.notify(alert({ severity: "alert", incidentId: `0x${"01".repeat(32)}` }));
    a.notify(alert({ severity: "pause", incidentId: `0x${"02".repeat(32)}` }));
    await a.flush();
    expect(all.received.map((r) => r.body.severity)).toEqual(["alert", "pause"]);
    expect(pagers.received.map((r) => r.body.severity)).toEqual(["pause"]);
  });

  it("never blocks or throws in notify; flush waits for slow deliveries", async () => {
    const hook = await receiver((_req, res) => {
      setTimeout(() => res.end(), 200);
    });
    const a = alerter([{ url: `${hook.origin}/hook` }]);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) a.notify(alert({ incidentId: `0x${String(i).padStart(64, "0")}` }));
    expect(performance.now() - t0).toBeLessThan(20);
    expect(hook.received).toHaveLength(0);
    await a.flush();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(590); // one after another, in order
    expect(hook.received.map((r) => r.body.incidentId)).toEqual(
      [0, 1, 2].map((i) => `0x${String(i).padStart(64, "0")}`),
    );
    expect(a.log.records().filter((r) => r.msg === "Delivered alert")).toHaveLength(3);

    // A fetch that throws synchronously is only a failed delivery.
    const broken = alerter([{ url: `${hook.origin}/hook` }], {
      retry: { attempts: 1 },
      fetch: (() => {
        throw new Error("boom");
      }) as unknown as typeof fetch,
    });
    expect(() => broken.notify(alert())).not.toThrow();
    await broken.flush();
    expect(broken.log.records().find((r) => r.msg === "Gave up delivering an alert")).toMatchObject({
      last_error: "boom",
    });
  });

  it("never logs the webhook URL's path or query", async () => {
    const token = "T0KEN-s3cr3t-9f8e7d";
    const hook = await receiver((_req, res, n) => {
      res.statusCode = [500, 200, 429, 400][n] ?? 404;
      res.end(`echo ${_req.path}`);
    });
    const url = `${hook.origin}/services/${token}/hook?key=${token}q`;
    // A fetch whose errors quote the full URL, as some clients do.
    let calls = 0;
    const leakyFetch: typeof fetch = async (input, init) => {
      if (calls++ === 3) throw new Error(`request to ${String(input)} failed`);
      return fetch(input, init);
    };
    const a = alerter([{ url }], { fetch: leakyFetch, retry: { attempts: 2, baseDelayMs: 1 } });
    a.notify(alert({ incidentId: `0x${"01".repeat(32)}` })); // 500, then 200
    a.notify(alert({ incidentId: `0x${"02".repeat(32)}` })); // 429, then thrown error quoting the URL
    await a.flush();
    a.notify(alert({ incidentId: `0x${"03".repeat(32)}` })); // 400
    await a.flush();
    expect(hook.received.every((r) => r.path.includes(token))).toBe(true);
    const logs = a.log.text();
    expect(logs).toContain(hook.origin);
    expect(logs).toContain("[redacted]");
    expect(logs).not.toContain(token);
    expect(logs).not.toContain("/services");

    // An invalid URL is refused at start without echoing it.
    expect(() => alerter([{ url: `not a url ${token}` }])).toThrow(/webhooks\[0\]\.url/);
    try {
      alerter([{ url: `not a url ${token}` }]);
    } catch (error) {
      expect(String(error)).not.toContain(token);
    }
  });
});
