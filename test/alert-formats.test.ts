import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hex } from "viem";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/internal/config.ts";
import { silentLogger } from "../src/internal/logger.ts";
import {
  discordBody,
  pagerDutyBody,
  slackBody,
  telegramBody,
  topReasons,
  transactionUrl,
} from "../src/record/alert-formats.ts";
import { type Alert, createAlerter, type DeliveryResult, type WebhookConfig } from "../src/record/alerts.ts";

type Received = { path: string; headers: IncomingMessage["headers"]; body: Record<string, unknown> };

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** A local HTTP server that records every POST; answers `status(n)` (default 200). */
async function receiver(status: (n: number, path: string) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      res.statusCode = status(received.length - 1, req.url ?? "");
      res.end(res.statusCode === 202 ? '{"status":"success","dedup_key":"x"}' : "ok");
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { received, origin, at: (path: string) => received.filter((r) => r.path === path) };
}

const INCIDENT = `0x${"ab".repeat(32)}` as Hex;
const TX = `0x${"cd".repeat(32)}` as Hex;
const TARGET = "0xa85233C63b9Ee964Add6F2cffe00Fd84eb32338f";
const ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345";

function pauseAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    incidentId: INCIDENT,
    severity: "pause",
    title: "Attack on market: pausing",
    score: 0.973,
    reasons: [
      { rule: "flash-loan", contribution: 0.2, detail: "borrowed 5,000,000 USD in one transaction" },
      {
        rule: "protected-read-manipulated",
        contribution: 0.45,
        detail: "the market read a price 4.1x its reference",
      },
      {
        rule: "protected-drained",
        contribution: 0.3,
        detail: "990,000 USD left the market <to 0xbad> & never came back",
      },
      { rule: "fresh-contract", contribution: 0.05, detail: "the caller was deployed 2 blocks ago" },
    ],
    txHash: TX,
    targets: [TARGET],
    valueAtRisk: "1000000 USD",
    recordPath: "/var/lib/vigil/incidents.jsonl",
    at: Date.UTC(2025, 0, 2, 3, 4, 5),
    chainId: 1,
    ...overrides,
  };
}

const alertLevel = () =>
  pauseAlert({
    severity: "alert",
    title: "Suspicious transaction touching market",
    score: 0.52,
    incidentId: `0x${"ef".repeat(32)}` as Hex,
    reasons: [{ rule: "flash-loan", contribution: 0.52, detail: "borrowed 1,000 USD" }],
  });

describe("alert bodies", () => {
  it("explains the same way in every format: top reasons by contribution, value at risk, tx, record", () => {
    const { shown, more } = topReasons(pauseAlert());
    expect(shown.map((r) => r.rule)).toEqual([
      "protected-read-manipulated",
      "protected-drained",
      "flash-loan",
    ]);
    expect(more).toBe(1);
    expect(transactionUrl(pauseAlert())).toBe(`https://etherscan.io/tx/${TX}`);
    expect(transactionUrl(pauseAlert({ chainId: 31337 }))).toBeUndefined();
    expect(transactionUrl(pauseAlert({ links: { tx: "https://scan.example/tx/1" } }))).toBe(
      "https://scan.example/tx/1",
    );

    const texts = [
      JSON.stringify(slackBody(pauseAlert())),
      JSON.stringify(discordBody(pauseAlert())),
      JSON.stringify(telegramBody(pauseAlert(), "-100123")),
      JSON.stringify(pagerDutyBody(pauseAlert(), ROUTING_KEY)),
    ];
    for (const text of texts) {
      expect(text).toContain("protected-read-manipulated");
      expect(text).toContain("protected-drained");
      expect(text).toContain("flash-loan");
      expect(text).not.toContain("the caller was deployed 2 blocks ago"); // the 4th reason is only counted
      expect(text).toContain("1000000 USD");
      expect(text).toContain(TX);
      expect(text).toContain(INCIDENT);
      expect(text).toContain("/var/lib/vigil/incidents.jsonl");
      expect(text).toContain(`https://etherscan.io/tx/${TX}`);
    }
  });

  it("escapes each format's markup in rule details", () => {
    expect(JSON.stringify(slackBody(pauseAlert()))).toContain("&lt;to 0xbad&gt; &amp; never");
    expect((telegramBody(pauseAlert(), "1").text as string).includes("&lt;to 0xbad&gt; &amp; never")).toBe(
      true,
    );
    expect(JSON.stringify(discordBody(pauseAlert({ title: "a *bold* claim" })))).toContain(
      "a \\\\*bold\\\\* claim",
    );
  });
});

describe("every format reaches a local webhook server with its content", () => {
  it("posts Slack, Discord, Telegram, PagerDuty and JSON bodies for one pause", async () => {
    const hook = await receiver((_n, path) => (path === "/pd" ? 202 : 200));
    const results: DeliveryResult[] = [];
    const webhooks: WebhookConfig[] = [
      { url: `${hook.origin}/json` },
      { url: `${hook.origin}/slack/T000/B000/secret`, format: "slack" },
      { url: `${hook.origin}/discord/123/token`, format: "discord" },
      { url: `${hook.origin}/botTOKEN/sendMessage`, format: "telegram", chatId: "-1001234567890" },
      { url: `${hook.origin}/pd`, format: "pagerduty", routingKeyEnv: "PD_KEY", minSeverity: "pause" },
    ];
    const alerter = createAlerter({
      webhooks,
      logger: silentLogger(),
      env: { PD_KEY: ROUTING_KEY },
      retry: { baseDelayMs: 1 },
      onDelivery: (r) => results.push(r),
    });
    alerter.notify(pauseAlert());
    await alerter.flush();
    expect(hook.received).toHaveLength(5);
    for (const r of hook.received) expect(r.headers["content-type"]).toBe("application/json");

    const json = hook.at("/json")[0]?.body;
    expect(json).toMatchObject({
      source: "vigil",
      version: 1,
      incidentId: INCIDENT,
      severity: "pause",
      txHash: TX,
    });

    const slack = hook.at("/slack/T000/B000/secret")[0]?.body as {
      text: string;
      blocks: {
        type: string;
        text?: { text: string };
        fields?: { text: string }[];
        elements?: { text: string }[];
      }[];
    };
    expect(slack.text).toBe(":rotating_light: Vigil PAUSE: Attack on market: pausing (score 0.97)");
    expect(slack.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "PAUSE: Attack on market: pausing", emoji: true },
    });
    expect(slack.blocks[1]?.fields?.map((f) => f.text)).toEqual([
      "*Severity*\nPAUSE",
      "*Score*\n0.97",
      "*Value at risk*\n1000000 USD",
      `*Targets*\n\`${TARGET}\``,
    ]);
    expect(slack.blocks[2]?.text?.text).toBe(
      [
        "*Why*",
        "• `protected-read-manipulated` (+0.45) the market read a price 4.1x its reference",
        "• `protected-drained` (+0.30) 990,000 USD left the market &lt;to 0xbad&gt; &amp; never came back",
        "• `flash-loan` (+0.20) borrowed 5,000,000 USD in one transaction",
        "_+1 more in the incident record_",
      ].join("\n"),
    );
    expect(slack.blocks[3]?.text?.text).toBe(`*Transaction*\n<https://etherscan.io/tx/${TX}|${TX}>`);
    expect(slack.blocks[4]?.elements?.[0]?.text).toBe(
      `Incident \`${INCIDENT}\` · record \`/var/lib/vigil/incidents.jsonl\` · 2025-01-02T03:04:05.000Z`,
    );

    const discord = hook.at("/discord/123/token")[0]?.body as {
      username: string;
      allowed_mentions: unknown;
      embeds: {
        title: string;
        url: string;
        color: number;
        description: string;
        timestamp: string;
        fields: { name: string; value: string }[];
      }[];
    };
    expect(discord.username).toBe("Vigil");
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    const embed = discord.embeds[0];
    expect(embed).toMatchObject({
      title: "PAUSE: Attack on market: pausing",
      url: `https://etherscan.io/tx/${TX}`,
      color: 0xe01e5a,
      timestamp: "2025-01-02T03:04:05.000Z",
    });
    expect(embed?.description).toMatch(/^\*\*Why\*\*\n• `protected-read-manipulated` \(\+0\.45\)/);
    expect(Object.fromEntries(embed?.fields.map((f) => [f.name, f.value]) ?? [])).toEqual({
      Score: "0.97",
      "Value at risk": "1000000 USD",
      Targets: `\`${TARGET}\``,
      Transaction: `[\`${TX}\`](https://etherscan.io/tx/${TX})`,
      Incident: `\`${INCIDENT}\``,
      Record: "`/var/lib/vigil/incidents.jsonl`",
    });

    const telegram = hook.at("/botTOKEN/sendMessage")[0]?.body as Record<string, unknown>;
    expect(telegram).toMatchObject({
      chat_id: "-1001234567890",
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
    });
    const text = telegram.text as string;
    expect(text.split("\n")[0]).toBe("🚨 <b>Vigil PAUSE</b>: Attack on market: pausing");
    expect(text).toContain("Score: <b>0.97</b>");
    expect(text).toContain(
      "• <code>protected-read-manipulated</code> (+0.45) the market read a price 4.1x its reference",
    );
    expect(text).toContain(`Transaction: <a href="https://etherscan.io/tx/${TX}">${TX}</a>`);
    expect(text).toContain(`Incident: <code>${INCIDENT}</code>`);
    expect(text.length).toBeLessThan(4096);

    const pd = hook.at("/pd")[0]?.body;
    expect(pd).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: INCIDENT,
      client: "Vigil",
      payload: {
        summary: "Vigil PAUSE: Attack on market: pausing (score 0.97)",
        source: TARGET,
        severity: "critical",
        timestamp: "2025-01-02T03:04:05.000Z",
        component: "vigil",
        class: "pause",
        group: "chain-1",
        custom_details: {
          incident_id: INCIDENT,
          title: "Attack on market: pausing",
          score: 0.97,
          value_at_risk: "1000000 USD",
          targets: [TARGET],
          tx_hash: TX,
          tx_url: `https://etherscan.io/tx/${TX}`,
          top_reasons: [
            "protected-read-manipulated (+0.45): the market read a price 4.1x its reference",
            "protected-drained (+0.30): 990,000 USD left the market <to 0xbad> & never came back",
            "flash-loan (+0.20): borrowed 5,000,000 USD in one transaction",
            "+1 more in the incident record",
          ],
          record: "/var/lib/vigil/incidents.jsonl",
        },
      },
      links: [{ href: `https://etherscan.io/tx/${TX}`, text: "Transaction" }],
    });

    expect(results.map((r) => `${r.format}:${r.result}`).sort()).toEqual(
      [
        "discord:delivered",
        "json:delivered",
        "pagerduty:delivered",
        "slack:delivered",
        "telegram:delivered",
      ].sort(),
    );
    // Logged origins only: no URL path (tokens) in the delivery results.
    for (const r of results) expect(r.webhook).toBe(hook.origin);
  });

  it("routes by severity, deduplicates per incident, and updates PagerDuty under the same dedup key", async () => {
    const hook = await receiver((_n, path) => (path === "/pd" ? 202 : 200));
    const alerter = createAlerter({
      webhooks: [
        { url: `${hook.origin}/pd`, format: "pagerduty", routingKeyEnv: "PD_KEY", minSeverity: "pause" },
        { url: `${hook.origin}/slack`, format: "slack" },
      ],
      logger: silentLogger(),
      env: { PD_KEY: ROUTING_KEY },
      retry: { baseDelayMs: 1 },
    });
    alerter.notify(alertLevel()); // below PagerDuty's minSeverity
    alerter.notify(pauseAlert());
    alerter.notify(pauseAlert()); // a repeat: dropped
    alerter.notify(pauseAlert({ outcome: "paused", title: "Incident paused" })); // an update: sent
    await alerter.flush();

    expect(hook.at("/slack")).toHaveLength(3);
    const pd = hook
      .at("/pd")
      .map((r) => r.body as { dedup_key: string; payload: { summary: string; severity: string } });
    expect(pd).toHaveLength(2);
    expect(pd.map((b) => b.dedup_key)).toEqual([INCIDENT, INCIDENT]);
    expect(pd[1]?.payload.summary).toBe("Vigil PAUSE: Incident paused (score 0.97, paused)");
    const slackAlert = hook.at("/slack")[0]?.body as { text: string };
    expect(slackAlert.text).toBe(
      ":warning: Vigil ALERT: Suspicious transaction touching market (score 0.52)",
    );
  });

  it("gives alert-level incidents PagerDuty severity warning", () => {
    const body = pagerDutyBody(alertLevel(), ROUTING_KEY) as { payload: { severity: string; class: string } };
    expect(body.payload).toMatchObject({ severity: "warning", class: "alert" });
  });

  it("retries a failing Telegram server with backoff and reports the outcome", async () => {
    const hook = await receiver((n) => (n < 2 ? 502 : 200));
    const results: DeliveryResult[] = [];
    const alerter = createAlerter({
      webhooks: [{ url: `${hook.origin}/botX/sendMessage`, format: "telegram", chatId: "@vigil_ops" }],
      logger: silentLogger(),
      retry: { baseDelayMs: 1, attempts: 4 },
      onDelivery: (r) => results.push(r),
    });
    alerter.notify(pauseAlert());
    await alerter.flush();
    expect(hook.received).toHaveLength(3);
    expect(hook.received.every((r) => r.body.chat_id === "@vigil_ops")).toBe(true);
    expect(results).toEqual([{ format: "telegram", webhook: hook.origin, result: "delivered", attempts: 3 }]);
  });

  it("refuses to start without the PagerDuty routing key or the Telegram chat", () => {
    expect(() =>
      createAlerter({
        webhooks: [
          { url: "https://events.pagerduty.com/v2/enqueue", format: "pagerduty", routingKeyEnv: "NOPE" },
        ],
        logger: silentLogger(),
        env: {},
      }),
    ).toThrow(/Environment variable NOPE is not set \(alerts.webhooks\[0\].routingKeyEnv\)/);
    expect(() =>
      createAlerter({
        webhooks: [{ url: "https://api.telegram.org/botX/sendMessage", format: "telegram" }],
        logger: silentLogger(),
      }),
    ).toThrow(/format "telegram" but no chatId/);
  });
});

describe("config: webhook formats", () => {
  const withWebhooks = (webhooks: unknown[]) => ({
    chain: { rpcUrl: "http://127.0.0.1:8545", wsUrl: "ws://127.0.0.1:8545", chainId: 31337 },
    guardian: "0x322813Fd9A801c5507c9de605d63CEA4f2CE6c44",
    targets: [{ address: "0xa85233C63b9Ee964Add6F2cffe00Fd84eb32338f" }],
    sentinel: { privateKeyEnv: "VIGIL_SENTINEL_KEY" },
    relays: [{ url: "http://127.0.0.1:8550" }],
    alerts: { webhooks },
  });
  const problems = (json: unknown): readonly string[] => {
    try {
      parseConfig(json, "vigil.json");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error("expected a ConfigError");
  };

  it("accepts every format with its fields", () => {
    const config = parseConfig(
      withWebhooks([
        { url: "https://hooks.slack.com/services/T/B/X", format: "slack", minSeverity: "pause" },
        { url: "https://discord.com/api/webhooks/1/x", format: "discord" },
        { url: "https://api.telegram.org/botX/sendMessage", format: "telegram", chatId: "-1001234567890" },
        {
          url: "https://events.pagerduty.com/v2/enqueue",
          format: "pagerduty",
          routingKeyEnv: "VIGIL_PD_KEY",
        },
        { url: "https://example.com/hook" },
      ]),
    );
    expect(config.alerts.webhooks.map((w) => w.format)).toEqual([
      "slack",
      "discord",
      "telegram",
      "pagerduty",
      "json",
    ]);
    expect(config.alerts.webhooks[2]).toEqual({
      url: "https://api.telegram.org/botX/sendMessage",
      format: "telegram",
      chatId: "-1001234567890",
      minSeverity: "alert",
    });
    expect(config.alerts.webhooks[3]?.routingKeyEnv).toBe("VIGIL_PD_KEY");
  });

  it("says which field a format needs or does not take", () => {
    expect(
      problems(
        withWebhooks([
          { url: "https://events.pagerduty.com/v2/enqueue", format: "pagerduty" },
          { url: "https://api.telegram.org/botX/sendMessage", format: "telegram" },
          { url: "https://hooks.slack.com/x", format: "slack", chatId: "1", routingKeyEnv: "X" },
          { url: "https://x.example/hook", format: "teams" },
          { url: "https://api.telegram.org/botX/sendMessage", format: "telegram", chatId: "general" },
        ]),
      ),
    ).toEqual([
      'alerts.webhooks[3].format must be one of "json", "slack", "discord", "telegram", "pagerduty", got "teams"',
      'alerts.webhooks[4].chatId must be a numeric chat id like "-1001234567890" or a channel\'s @username, got "general"',
      'alerts.webhooks[0].routingKeyEnv is required with format "pagerduty": name the environment variable that holds the routing key, like "VIGIL_PAGERDUTY_ROUTING_KEY"',
      'alerts.webhooks[1].chatId is required with format "telegram": the numeric chat id (like "-1001234567890") or a channel\'s @username',
      'alerts.webhooks[2].routingKeyEnv is only used with format "pagerduty" (this webhook is "slack")',
      'alerts.webhooks[2].chatId is only used with format "telegram" (this webhook is "slack")',
    ]);
  });
});
