import type { Alert } from "./alerts.ts";

/**
 * Alert bodies for the webhook formats Vigil speaks. Every format carries the same explanation:
 * what happened (severity, title, score, outcome), why (the top scoring reasons), what is at stake
 * (targets, value at risk) and where the evidence is (transaction, incident id, record path).
 *
 * - json: Vigil's own body (`alertBody` in alerts.ts);
 * - slack: incoming-webhook body, `text` (notification fallback) plus Block Kit `blocks`;
 * - discord: webhook body with one embed;
 * - telegram: Bot API `sendMessage` body (HTML parse mode);
 * - pagerduty: Events API v2 `trigger` event, deduplicated by incident id.
 */

export type WebhookFormat = "json" | "slack" | "discord" | "telegram" | "pagerduty";

export const WEBHOOK_FORMATS: readonly WebhookFormat[] = [
  "json",
  "slack",
  "discord",
  "telegram",
  "pagerduty",
];

/** Reasons shown in a message; the rest are counted ("+2 more"). */
export const TOP_REASONS = 3;

/** Block explorers for transaction links, by chain id. */
const EXPLORERS: Record<number, string> = {
  1: "https://etherscan.io",
  10: "https://optimistic.etherscan.io",
  56: "https://bscscan.com",
  100: "https://gnosisscan.io",
  137: "https://polygonscan.com",
  8453: "https://basescan.org",
  17000: "https://holesky.etherscan.io",
  42161: "https://arbiscan.io",
  11155111: "https://sepolia.etherscan.io",
};

/** The link to the alert's transaction: `links.tx`, else a known explorer for `chainId`. */
export function transactionUrl(alert: Alert): string | undefined {
  if (alert.links?.tx) return alert.links.tx;
  const base = alert.chainId === undefined ? undefined : EXPLORERS[alert.chainId];
  return base ? `${base}/tx/${alert.txHash}` : undefined;
}

/** The reasons with the largest contribution first, at most `TOP_REASONS`, and how many were left out. */
export function topReasons(alert: Alert): { shown: Alert["reasons"]; more: number } {
  const sorted = [...alert.reasons].sort((a, b) => b.contribution - a.contribution);
  return { shown: sorted.slice(0, TOP_REASONS), more: Math.max(0, sorted.length - TOP_REASONS) };
}

function label(alert: Alert): string {
  return alert.severity === "pause" ? "PAUSE" : "ALERT";
}

function score(alert: Alert): string {
  return alert.score.toFixed(2);
}

function contribution(c: number): string {
  return `${c >= 0 ? "+" : ""}${c.toFixed(2)}`;
}

function iso(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

function recordText(alert: Alert): string {
  return alert.links?.record ?? alert.recordPath;
}

/** One line per reason, plain text. */
function reasonLines(alert: Alert): string[] {
  const { shown, more } = topReasons(alert);
  const lines = shown.map((r) => `${r.rule} (${contribution(r.contribution)}): ${r.detail}`);
  if (more > 0) lines.push(`+${more} more in the incident record`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Slack
// ---------------------------------------------------------------------------------------------

/** Slack mrkdwn: &, < and > are control characters. */
function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function slackBody(alert: Alert): Record<string, unknown> {
  const url = transactionUrl(alert);
  const { shown, more } = topReasons(alert);
  const why = shown.map(
    (r) => `• \`${slackEscape(r.rule)}\` (${contribution(r.contribution)}) ${slackEscape(r.detail)}`,
  );
  if (more > 0) why.push(`_+${more} more in the incident record_`);
  const fields = [
    `*Severity*\n${label(alert)}`,
    `*Score*\n${score(alert)}`,
    ...(alert.outcome ? [`*Outcome*\n${slackEscape(alert.outcome)}`] : []),
    ...(alert.valueAtRisk ? [`*Value at risk*\n${slackEscape(alert.valueAtRisk)}`] : []),
    `*Targets*\n${alert.targets.map((t) => `\`${t}\``).join("\n") || "none"}`,
  ];
  const tx = url ? `<${url}|${alert.txHash}>` : `\`${alert.txHash}\``;
  const icon = alert.severity === "pause" ? ":rotating_light:" : ":warning:";
  return {
    text: truncate(`${icon} Vigil ${label(alert)}: ${alert.title} (score ${score(alert)})`, 3000),
    blocks: [
      {
        type: "header",
        text: { type: "plain_text", text: truncate(`${label(alert)}: ${alert.title}`, 150), emoji: true },
      },
      { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text: truncate(text, 2000) })) },
      {
        type: "section",
        text: { type: "mrkdwn", text: truncate(`*Why*\n${why.join("\n") || "no reasons recorded"}`, 3000) },
      },
      { type: "section", text: { type: "mrkdwn", text: `*Transaction*\n${tx}` } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: truncate(
              `Incident \`${alert.incidentId}\` · record \`${slackEscape(recordText(alert))}\` · ${iso(alert.at)}`,
              3000,
            ),
          },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Discord
// ---------------------------------------------------------------------------------------------

/** Discord markdown control characters, escaped. */
function discordEscape(text: string): string {
  return text.replace(/([\\*_~`|>[\]()])/g, "\\$1");
}

const DISCORD_RED = 0xe01e5a;
const DISCORD_AMBER = 0xecb22e;

export function discordBody(alert: Alert): Record<string, unknown> {
  const url = transactionUrl(alert);
  const { shown, more } = topReasons(alert);
  const why = shown.map(
    (r) =>
      `• \`${r.rule.replaceAll("`", "'")}\` (${contribution(r.contribution)}) ${discordEscape(r.detail)}`,
  );
  if (more > 0) why.push(`*+${more} more in the incident record*`);
  const field = (name: string, value: string, inline = true) => ({
    name,
    value: truncate(value === "" ? "—" : value, 1024),
    inline,
  });
  return {
    username: "Vigil",
    content: truncate(`**${label(alert)}**: ${discordEscape(alert.title)}`, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: truncate(`${label(alert)}: ${alert.title}`, 256),
        ...(url ? { url } : {}),
        description: truncate(`**Why**\n${why.join("\n") || "no reasons recorded"}`, 4096),
        color: alert.severity === "pause" ? DISCORD_RED : DISCORD_AMBER,
        timestamp: iso(alert.at),
        fields: [
          field("Score", score(alert)),
          ...(alert.outcome ? [field("Outcome", alert.outcome)] : []),
          ...(alert.valueAtRisk ? [field("Value at risk", alert.valueAtRisk)] : []),
          field("Targets", alert.targets.map((t) => `\`${t}\``).join("\n"), false),
          field("Transaction", url ? `[\`${alert.txHash}\`](${url})` : `\`${alert.txHash}\``, false),
          field("Incident", `\`${alert.incidentId}\``, false),
          field("Record", `\`${recordText(alert).replaceAll("`", "'")}\``, false),
        ],
        footer: { text: "Vigil guardian" },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Telegram
// ---------------------------------------------------------------------------------------------

/** Telegram HTML mode: &, < and > must be entities (and " inside attributes). */
function htmlEscape(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

export function telegramBody(alert: Alert, chatId: string): Record<string, unknown> {
  // Telegram refuses texts over 4096 characters: each part is bounded so the whole stays below.
  const url = transactionUrl(alert);
  const icon = alert.severity === "pause" ? "🚨" : "⚠️";
  const { shown, more } = topReasons(alert);
  const why = shown.map(
    (r) =>
      `• <code>${htmlEscape(truncate(r.rule, 80))}</code> (${contribution(r.contribution)}) ${htmlEscape(truncate(r.detail, 500))}`,
  );
  if (more > 0) why.push(`<i>+${more} more in the incident record</i>`);
  const targets = alert.targets.slice(0, 8).map((t) => `<code>${t}</code>`);
  if (alert.targets.length > 8) targets.push(`+${alert.targets.length - 8} more`);
  const facts = [
    `Score: <b>${score(alert)}</b>`,
    ...(alert.outcome ? [`Outcome: <b>${htmlEscape(truncate(alert.outcome, 80))}</b>`] : []),
    ...(alert.valueAtRisk ? [`Value at risk: ${htmlEscape(truncate(alert.valueAtRisk, 80))}`] : []),
    `Targets: ${targets.join(", ") || "none"}`,
  ];
  const tx = url ? `<a href="${htmlEscape(url)}">${alert.txHash}</a>` : `<code>${alert.txHash}</code>`;
  const text = [
    `${icon} <b>Vigil ${label(alert)}</b>: ${htmlEscape(truncate(alert.title, 300))}`,
    ...facts,
    "",
    "<b>Why</b>",
    ...(why.length > 0 ? why : ["no reasons recorded"]),
    "",
    `Transaction: ${tx}`,
    `Incident: <code>${alert.incidentId}</code>`,
    `Record: <code>${htmlEscape(truncate(recordText(alert), 300))}</code>`,
  ].join("\n");
  return {
    chat_id: chatId,
    text,
    parse_mode: "HTML",
    link_preview_options: { is_disabled: true },
  };
}

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2
// ---------------------------------------------------------------------------------------------

export function pagerDutyBody(alert: Alert, routingKey: string): Record<string, unknown> {
  const url = transactionUrl(alert);
  const summary = `Vigil ${label(alert)}: ${alert.title} (score ${score(alert)}${alert.outcome ? `, ${alert.outcome}` : ""})`;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    // One PagerDuty alert per incident: later updates (the outcome) are added to it.
    dedup_key: alert.incidentId,
    client: "Vigil",
    payload: {
      summary: truncate(summary, 1024),
      source: truncate(alert.targets.join(", ") || "vigil", 255),
      severity: alert.severity === "pause" ? "critical" : "warning",
      timestamp: iso(alert.at),
      component: "vigil",
      class: alert.severity,
      ...(alert.chainId === undefined ? {} : { group: `chain-${alert.chainId}` }),
      custom_details: {
        incident_id: alert.incidentId,
        title: alert.title,
        score: Number(score(alert)),
        ...(alert.outcome ? { outcome: alert.outcome } : {}),
        ...(alert.valueAtRisk ? { value_at_risk: alert.valueAtRisk } : {}),
        targets: alert.targets,
        tx_hash: alert.txHash,
        ...(url ? { tx_url: url } : {}),
        top_reasons: reasonLines(alert),
        record: recordText(alert),
      },
    },
    ...(url ? { links: [{ href: url, text: "Transaction" }] } : {}),
  };
}
