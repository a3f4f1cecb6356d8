import type { Address, Hex } from "viem";
import { describeError, InputError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import {
  discordBody,
  pagerDutyBody,
  slackBody,
  telegramBody,
  WEBHOOK_FORMATS,
  type WebhookFormat,
} from "./alert-formats.ts";

export type { WebhookFormat } from "./alert-formats.ts";

/**
 * Alerts to webhooks. `notify` only queues (it never throws and never waits), one queue per
 * webhook so each receives its alerts in order; a failing webhook never holds up another.
 *
 * A webhook URL often carries its token in the path or query (Slack, Discord, Telegram), so only
 * the URL's origin is ever logged, and error texts are scrubbed of the rest of the URL. A
 * PagerDuty routing key is read from the environment when the alerter is created and only ever
 * goes into request bodies.
 *
 * Each webhook has a body format (alert-formats.ts): Vigil's generic JSON, Slack, Discord,
 * Telegram or PagerDuty Events v2.
 */

export type AlertSeverity = "alert" | "pause";

export type Alert = {
  incidentId: Hex;
  severity: AlertSeverity;
  title: string;
  score: number;
  reasons: { rule: string; contribution: number; detail: string }[];
  txHash: Hex;
  targets: Address[];
  valueAtRisk?: string;
  outcome?: string;
  /** Where the incident record lives, so a responder can find the full evidence. */
  recordPath: string;
  /** Epoch ms. */
  at: number;
  /** Chain of the transaction: known chains get a block-explorer link. */
  chainId?: number;
  /** Explicit links (they win over the explorer link and the record path). */
  links?: { tx?: string; record?: string };
};

export type WebhookConfig = {
  url: string;
  /** Body format (default "json", Vigil's generic body). */
  format?: WebhookFormat;
  /** The least severe alert this webhook receives (default "alert": all of them). */
  minSeverity?: AlertSeverity;
  /** format "pagerduty": the environment variable holding the Events API v2 routing key. */
  routingKeyEnv?: string;
  /** format "telegram": the chat to post to (numeric id or @channel). */
  chatId?: string;
};

/** How one alert's delivery to one webhook ended (for metrics). */
export type DeliveryResult = {
  format: WebhookFormat;
  /** Scheme, host and port of the webhook (safe to log). */
  webhook: string;
  result: "delivered" | "rejected" | "gave_up";
  attempts: number;
};

export type AlerterOptions = {
  webhooks: readonly WebhookConfig[];
  logger: Logger;
  fetch?: typeof fetch;
  retry?: {
    /** Tries per alert and webhook, the first included (default 4). */
    attempts?: number;
    /** First backoff; doubles on each retry (default 250 ms). */
    baseDelayMs?: number;
    /** Cap for the backoff and for a server's Retry-After (default 30 s). */
    maxDelayMs?: number;
  };
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Alerts waiting per webhook beyond which the oldest is dropped, with a warning (default 1000). */
  maxQueue?: number;
  /** Where `routingKeyEnv` is looked up (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Called once per alert and webhook when its delivery ends; must not throw (errors are ignored). */
  onDelivery?: (result: DeliveryResult) => void;
};

export type Alerter = {
  /** Queues the alert for every webhook that wants it. Never throws, never blocks. */
  notify(alert: Alert): void;
  /** Resolves once every queued and in-flight delivery finished (delivered or given up). */
  flush(): Promise<void>;
};

export const ALERT_BODY_VERSION = 1;
const SEVERITY_RANK: Record<AlertSeverity, number> = { alert: 0, pause: 1 };
/** Dedup keys kept per webhook; the oldest are forgotten beyond this. */
const MAX_SENT_KEYS = 10_000;

type Webhook = {
  url: URL;
  /** Safe to log: scheme, host and port only. */
  origin: string;
  format: WebhookFormat;
  /** format "pagerduty". */
  routingKey: string | undefined;
  /** format "telegram". */
  chatId: string | undefined;
  minRank: number;
  queue: Alert[];
  running: Promise<void> | undefined;
  /** Dedup keys of alerts queued or delivered. */
  sent: Set<string>;
};

/** The generic JSON body: the alert's fields plus `source` and `version`. */
export function alertBody(alert: Alert): Record<string, unknown> {
  return { source: "vigil", version: ALERT_BODY_VERSION, ...alert };
}

export function createAlerter(options: AlerterOptions): Alerter {
  const { logger } = options;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const attempts = Math.max(1, options.retry?.attempts ?? 4);
  const baseDelayMs = Math.max(0, options.retry?.baseDelayMs ?? 250);
  const maxDelayMs = Math.max(0, options.retry?.maxDelayMs ?? 30_000);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxQueue = Math.max(1, options.maxQueue ?? 1_000);
  const env = options.env ?? process.env;

  const webhooks: Webhook[] = options.webhooks.map((config, i) => {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      // Do not echo the URL: it may hold a token.
      throw new InputError(`webhooks[${i}].url is not a valid URL`, {
        hint: "use a full http(s) URL like https://hooks.example.com/...",
      });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new InputError(`webhooks[${i}].url must be http or https (got ${url.protocol})`);
    }
    const format = config.format ?? "json";
    if (!WEBHOOK_FORMATS.includes(format)) {
      throw new InputError(`webhooks[${i}].format must be one of ${WEBHOOK_FORMATS.join(", ")}`);
    }
    let routingKey: string | undefined;
    if (format === "pagerduty") {
      const name = config.routingKeyEnv;
      routingKey = name === undefined ? undefined : env[name]?.trim();
      if (!name || !routingKey) {
        throw new InputError(
          name
            ? `Environment variable ${name} is not set (alerts.webhooks[${i}].routingKeyEnv)`
            : `webhooks[${i}] has format "pagerduty" but no routingKeyEnv`,
          { hint: "set it to the routing key of the PagerDuty service's Events API v2 integration" },
        );
      }
    }
    if (format === "telegram" && !config.chatId) {
      throw new InputError(`webhooks[${i}] has format "telegram" but no chatId`, {
        hint: "set chatId to the numeric chat id or the channel's @username",
      });
    }
    return {
      url,
      origin: url.origin,
      format,
      routingKey,
      chatId: config.chatId,
      minRank: SEVERITY_RANK[config.minSeverity ?? "alert"],
      queue: [],
      running: undefined,
      sent: new Set(),
    };
  });

  /** An error's text with the webhook's path and query cut out, in case a fetch put the URL in it. */
  function scrub(hook: Webhook, error: unknown): string {
    let text = describeError(error);
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    if (cause !== undefined) text += `: ${describeError(cause)}`;
    const secretParts = [
      hook.url.href,
      `${hook.url.pathname}${hook.url.search}`,
      hook.url.search,
      hook.url.pathname,
    ];
    for (const part of secretParts) {
      if (part.length > 1) text = text.split(part).join("[redacted]");
    }
    return text;
  }

  function dedupKey(alert: Alert): string {
    return `${alert.incidentId.toLowerCase()}|${alert.severity}|${alert.outcome ?? ""}`;
  }

  function pump(hook: Webhook): void {
    if (hook.running) return;
    hook.running = (async () => {
      await null; // start after the caller's turn: notify never waits for a fetch to begin
      for (let alert = hook.queue.shift(); alert; alert = hook.queue.shift()) {
        try {
          await deliver(hook, alert);
        } catch (error) {
          logger.error({ webhook: hook.origin, err: scrub(hook, error) }, "Alert delivery crashed");
        }
      }
    })().finally(() => {
      hook.running = undefined;
      if (hook.queue.length > 0) pump(hook);
    });
  }

  function report(hook: Webhook, result: DeliveryResult["result"], attempts: number): void {
    try {
      options.onDelivery?.({ format: hook.format, webhook: hook.origin, result, attempts });
    } catch {
      // a metrics hook must never break delivery
    }
  }

  async function deliver(hook: Webhook, alert: Alert): Promise<void> {
    const body = JSON.stringify(formatBody(hook, alert));
    const fields = {
      webhook: hook.origin,
      format: hook.format,
      incident_id: alert.incidentId,
      severity: alert.severity,
    };
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      try {
        const response = await fetchFn(hook.url.href, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "vigil" },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Read the body to free the connection; never log it (a server may echo the URL).
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          logger.info({ ...fields, status: response.status, attempt }, "Delivered alert");
          report(hook, "delivered", attempt);
          return;
        }
        last = `HTTP ${response.status}`;
        if (response.status !== 429 && response.status < 500) {
          logger.warn(
            { ...fields, status: response.status, attempt },
            "Webhook rejected the alert; not retrying",
          );
          hook.sent.delete(dedupKey(alert));
          report(hook, "rejected", attempt);
          return;
        }
        const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        if (retryAfterMs !== undefined) delayMs = Math.min(maxDelayMs, retryAfterMs);
        if (attempt < attempts) {
          logger.debug(
            { ...fields, status: response.status, attempt, retry_in_ms: delayMs },
            "Retrying alert",
          );
        }
      } catch (error) {
        last = scrub(hook, error);
        if (attempt < attempts) {
          logger.debug({ ...fields, err: last, attempt, retry_in_ms: delayMs }, "Retrying alert");
        }
      }
      if (attempt < attempts) await sleep(delayMs);
    }
    logger.warn({ ...fields, attempts, last_error: last }, "Gave up delivering an alert");
    report(hook, "gave_up", attempts);
    // A later notify of the same alert may try again.
    hook.sent.delete(dedupKey(alert));
  }

  return {
    notify(alert) {
      try {
        const rank = SEVERITY_RANK[alert.severity] ?? 0;
        const key = dedupKey(alert);
        for (const hook of webhooks) {
          if (rank < hook.minRank) continue;
          if (hook.sent.has(key)) {
            logger.debug(
              { webhook: hook.origin, incident_id: alert.incidentId },
              "Skipped a duplicate alert",
            );
            continue;
          }
          hook.sent.add(key);
          if (hook.sent.size > MAX_SENT_KEYS) {
            const oldest = hook.sent.values().next().value;
            if (oldest !== undefined) hook.sent.delete(oldest);
          }
          if (hook.queue.length >= maxQueue) {
            const dropped = hook.queue.shift();
            logger.warn(
              { webhook: hook.origin, incident_id: dropped?.incidentId, queued: hook.queue.length },
              "Dropped the oldest queued alert: the webhook is not keeping up",
            );
          }
          hook.queue.push(alert);
          pump(hook);
        }
      } catch (error) {
        try {
          logger.error({ err: describeError(error) }, "Could not queue an alert");
        } catch {
          // notify must never throw
        }
      }
    },
    async flush() {
      for (;;) {
        const running = webhooks.flatMap((h) => (h.running ? [h.running] : []));
        if (running.length === 0) return;
        await Promise.allSettled(running);
      }
    },
  };
}

/** The body of an alert in a webhook's format. */
function formatBody(hook: Webhook, alert: Alert): Record<string, unknown> {
  switch (hook.format) {
    case "slack":
      return slackBody(alert);
    case "discord":
      return discordBody(alert);
    case "telegram":
      return telegramBody(alert, hook.chatId ?? "");
    case "pagerduty":
      return pagerDutyBody(alert, hook.routingKey ?? "");
    default:
      return alertBody(alert);
  }
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
