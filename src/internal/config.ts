/**
 * The configuration file: one JSON file, checked against `schema/vigil.config.schema.json` (ajv,
 * every error at once) and then by rules a schema cannot express (checksums, duplicates, order of
 * thresholds). Every problem becomes one human sentence naming the field path and what is expected;
 * all of them are thrown together in a single `ConfigError`.
 *
 * Secrets never live in this file: it names environment variables (or a keystore path), and the
 * messages never echo a value that could be a key or a credential-bearing URL.
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { type Address, getAddress } from "viem";
import { describeJsonError } from "./config/json-errors.ts";
import { VigilError, type VigilErrorOptions } from "./errors.ts";
import { shippedFile } from "./paths.ts";
import { redactUrl } from "./redact.ts";

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** The sentinel key source, as written in the file. */
export type SentinelConfig =
  | { readonly privateKeyEnv: string }
  | { readonly keystore: string; readonly passwordEnv: string };

/** The file as a user writes it (optional sections may be absent). */
export type VigilConfig = {
  $schema?: string;
  chain: { rpcUrl: string; wsUrl: string; chainId: number };
  guardian: string;
  targets: { address: string; name?: string; hints?: { priceSources?: string[]; valueAtRiskUsd?: number } }[];
  sentinel: SentinelConfig;
  relays?: { url: string; name?: string }[];
  relayAuthKeyEnv?: string;
  detection?: {
    alertThreshold?: number;
    pauseThreshold?: number;
    model?: string;
    modelWeight?: number;
    baseline?: { enabled?: boolean; warmBlocks?: number; minObservations?: number; window?: number };
  };
  simulator?: { forks?: number; timeoutMs?: number; gasLimit?: number };
  response?: {
    mode?: ResponseMode;
    blocksAhead?: number;
    publicFallback?: boolean;
    maxPriorityFeeGwei?: number;
    tipMarginGwei?: number;
  };
  record?: { path?: string };
  alerts?: {
    webhooks?: {
      url: string;
      format?: WebhookFormat;
      minSeverity?: Severity;
      routingKeyEnv?: string;
      chatId?: string;
    }[];
  };
  queue?: { capacity?: number };
  metrics?: { port?: number; host?: string };
  log?: { level?: LogLevel };
};

export type ResponseMode = "active" | "shadow";
export type Severity = "alert" | "pause";
export type WebhookFormat = "json" | "slack" | "discord" | "telegram" | "pagerduty";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export type ResolvedTarget = {
  /** EIP-55 checksummed. */
  readonly address: Address;
  readonly name?: string;
  readonly hints: { readonly priceSources: readonly Address[]; readonly valueAtRiskUsd?: number };
};

/**
 * A validated configuration with every default applied: optional sections are present, addresses
 * are checksummed, relative paths are resolved against the config file's directory (by
 * `loadConfig`, or `parseConfig`'s `baseDir`). Deeply frozen.
 */
export type ResolvedConfig = {
  readonly chain: { readonly rpcUrl: string; readonly wsUrl: string; readonly chainId: number };
  readonly guardian: Address;
  readonly targets: readonly ResolvedTarget[];
  readonly sentinel: SentinelConfig;
  /** Empty only in shadow mode. */
  readonly relays: readonly { readonly url: string; readonly name?: string }[];
  /** Absent: a random relay-auth key per start. */
  readonly relayAuthKeyEnv?: string;
  readonly detection: {
    readonly alertThreshold: number;
    readonly pauseThreshold: number;
    /** Absolute path, "none", or absent (the shipped model). */
    readonly model?: string;
    readonly modelWeight: number;
    readonly baseline: {
      readonly enabled: boolean;
      readonly warmBlocks: number;
      readonly minObservations: number;
      readonly window: number;
    };
  };
  readonly simulator: { readonly forks: number; readonly timeoutMs: number; readonly gasLimit: number };
  readonly response: {
    readonly mode: ResponseMode;
    readonly blocksAhead: number;
    readonly publicFallback: boolean;
    readonly maxPriorityFeeGwei: number;
    readonly tipMarginGwei: number;
  };
  readonly record: { readonly path: string };
  readonly alerts: {
    readonly webhooks: readonly {
      readonly url: string;
      readonly format: WebhookFormat;
      readonly minSeverity: Severity;
      /** format "pagerduty": the variable holding the Events API v2 routing key. */
      readonly routingKeyEnv?: string;
      /** format "telegram": the chat to post to. */
      readonly chatId?: string;
    }[];
  };
  readonly queue: { readonly capacity: number };
  /**
   * Present only when the file has a `metrics` section (defaults applied inside it); use
   * `metricsSettings(config)` for the effective values.
   */
  readonly metrics?: { readonly port: number; readonly host: string };
  readonly log: { readonly level: LogLevel };
};

/** The configuration is invalid. `problems` holds one sentence per problem (without the source). */
export class ConfigError extends VigilError {
  override name = "ConfigError";
  readonly source: string;
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options: Omit<VigilErrorOptions, "details"> = {}) {
    const short =
      problems.length === 1
        ? `Invalid configuration ${source}`
        : `Invalid configuration ${source} (${problems.length} problems)`;
    super(short, {
      hint: `fix the fields above; ${SCHEMA_HINT}`,
      ...options,
      details: problems.map((p) => `${source}: ${p}`),
    });
    this.source = source;
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/** Reads, parses and validates a config file. Relative paths inside it are resolved against its directory. */
export function loadConfig(path: string): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? `does not exist (looked for ${resolve(path)})`
        : code === "EISDIR"
          ? "is a directory, not a file"
          : code === "EACCES"
            ? "cannot be read: permission denied"
            : `cannot be read (${code ?? "unknown error"})`;
    throw new ConfigError(path, [`the config file ${why}`], {
      hint: "pass the path of an existing config file (examples/vigil.devnet.json is a starting point)",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ConfigError(path, [describeJsonError(text.replace(/^\uFEFF/, ""), error)], {
      hint: "the config file must be plain JSON (no comments, no trailing commas)",
    });
  }
  return parseConfig(json, path, { baseDir: dirname(path) });
}

/**
 * Validates an already-parsed config and applies defaults. `source` names it in messages (a file
 * path); `baseDir`, when given, resolves relative paths (`sentinel.keystore`, `record.path`).
 */
export function parseConfig(
  json: unknown,
  source = "config",
  options: { baseDir?: string } = {},
): ResolvedConfig {
  const data = cloneJson(json);
  const problems: string[] = [];
  const valid = validator()(data);
  problems.push(...translateErrors(valid ? [] : (validator().errors ?? [])));
  problems.push(
    ...checkSentinel(isObject(data) ? data.sentinel : undefined, isObject(data) && "sentinel" in data),
  );
  problems.push(...checkSemantics(data));
  if (problems.length > 0) throw new ConfigError(source, dedupe(problems));
  return deepFreeze(resolveConfig(data as unknown as VigilConfig, options.baseDir));
}

/** Where the metrics server listens (0 = no server), defaults applied. */
export const METRICS_DEFAULTS = { port: 9464, host: "127.0.0.1" } as const;

export function metricsSettings(config: ResolvedConfig): { port: number; host: string } {
  return { ...METRICS_DEFAULTS, ...config.metrics };
}

/** Short fingerprint of a resolved config (sha256 of its canonical JSON, 12 hex digits). Records carry it. */
export function configVersion(config: ResolvedConfig): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 12);
}

/** JSON with object keys sorted at every level (stable across key order in the file). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const SCHEMA_PATH = shippedFile("schema/vigil.config.schema.json");
const SCHEMA_HINT = "schema/vigil.config.schema.json describes every field";

type SchemaNode = {
  type?: string;
  $ref?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxLength?: number;
  description?: string;
  properties?: Record<string, SchemaNode>;
  $defs?: Record<string, SchemaNode>;
};

let compiled: { schema: SchemaNode; main: ValidateFunction; sentinelFields: ValidateFunction } | undefined;

function compile(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as SchemaNode & { $id: string };
  const ajv = new Ajv2020({ allErrors: true, strict: true, useDefaults: true, verbose: true });
  const main = ajv.compile(schema);
  const sentinelFields = ajv.getSchema(`${schema.$id}#/$defs/sentinelFields`);
  if (!sentinelFields) throw new Error("schema has no $defs/sentinelFields");
  compiled = { schema, main, sentinelFields };
  return compiled;
}

function validator(): ValidateFunction {
  return compile().main;
}

/** The JSON Schema of the config file (parsed). */
export function configSchema(): unknown {
  return compile().schema;
}

/** Which `$defs` entry a schema object is, if any (ajv's `parentSchema` is the original object). */
function defName(node: unknown): string | undefined {
  const defs = compile().schema.$defs ?? {};
  for (const [name, def] of Object.entries(defs)) if (def === node) return name;
  return undefined;
}

function defOf(node: SchemaNode | undefined): SchemaNode | undefined {
  if (!node?.$ref) return node;
  const name = node.$ref.replace("#/$defs/", "");
  return compile().schema.$defs?.[name];
}

const EXAMPLE_ADDRESS = "0xAbC…";
const DEF_EXPECTED: Record<string, string> = {
  address: `a 20-byte hex address like ${EXAMPLE_ADDRESS}`,
  httpUrl: "an http:// or https:// URL",
  wsUrl: "a ws:// or wss:// URL",
  envName: 'the name of an environment variable, like "VIGIL_SENTINEL_KEY"',
  target: 'an object like {"address": "0x…"}',
  relay: 'an object like {"url": "https://…"}',
  webhook: 'an object like {"url": "https://…"}',
};
const PATH_EXPECTED: Record<string, string> = {
  sentinel:
    '{"privateKeyEnv": "VIGIL_SENTINEL_KEY"} or {"keystore": "key.json", "passwordEnv": "VIGIL_KEYSTORE_PASSWORD"}',
  targets: 'a list of contracts to protect, like [{"address": "0x…"}]',
  relays: 'a list of relays, like [{"url": "https://…"}]',
  chain: '{"rpcUrl": "http://…", "wsUrl": "ws://…", "chainId": 1}',
};

/** What a schema node expects, in words. */
function expected(node: SchemaNode | undefined, path: string): string {
  const special = PATH_EXPECTED[path];
  if (special) return special;
  if (!node) return "a value";
  if (node.$ref) {
    const name = node.$ref.replace("#/$defs/", "");
    return DEF_EXPECTED[name] ?? expected(defOf(node), "");
  }
  if (node.enum) return `one of ${node.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  switch (node.type) {
    case "integer":
      return `an integer${range(node)}`;
    case "number":
      return `a number${range(node)}`;
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
    case "array":
      return "a list";
    case "object":
      return "an object";
    default:
      return "a value";
  }
}

function range(node: SchemaNode): string {
  const words = rangeWords(node);
  return words === "" ? "" : words.startsWith("at ") ? ` of ${words}` : ` ${words}`;
}

/** "from 1 to 16" (integers), "between 0 and 1" (numbers), "at least 1", "at most 5". */
function rangeWords(node: SchemaNode | undefined): string {
  const lo = node?.minimum;
  const hi = node?.maximum;
  if (lo !== undefined && hi !== undefined)
    return node?.type === "integer" ? `from ${lo} to ${hi}` : `between ${lo} and ${hi}`;
  if (lo !== undefined) return `at least ${lo}`;
  if (hi !== undefined) return `at most ${hi}`;
  return "";
}

// ---------------------------------------------------------------------------------------------
// ajv errors -> sentences
// ---------------------------------------------------------------------------------------------

/** `/targets/1/address` -> `targets[1].address`; "" -> "". */
export function formatPath(pointer: string): string {
  if (pointer === "") return "";
  let out = "";
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function joinPath(parent: string, key: string): string {
  return formatPath(`${parent}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`);
}

function where(path: string): string {
  return path === "" ? "at the top level" : `in ${path}`;
}

function subject(path: string): string {
  return path === "" ? "the configuration" : path;
}

function translateErrors(errors: readonly ErrorObject[]): string[] {
  const out: string[] = [];
  // Errors for the sentinel section are explained by checkSentinel (its oneOf gives poor errors).
  const relevant = errors.filter(
    (e) => e.instancePath !== "/sentinel" && !e.instancePath.startsWith("/sentinel/"),
  );
  const suggested = new Set<string>(); // "parentPointer\0key" of required keys an unknown key probably meant
  for (const e of relevant) {
    if (e.keyword !== "additionalProperties") continue;
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const s = suggest(key, Object.keys((e.parentSchema as SchemaNode | undefined)?.properties ?? {}));
    if (s) suggested.add(`${e.instancePath}\0${s}`);
  }
  // A value of the wrong type also fails its range/format keywords: report the type alone.
  const wrongType = new Set(relevant.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  for (const e of relevant) {
    if (e.keyword !== "type" && wrongType.has(e.instancePath)) continue;
    const m = translate(e, suggested);
    if (m) out.push(m);
  }
  return out;
}

function translate(e: ErrorObject, suggested: ReadonlySet<string>): string | undefined {
  const path = formatPath(e.instancePath);
  const parent = e.parentSchema as SchemaNode | undefined;
  const value = e.data;
  switch (e.keyword) {
    case "required": {
      const key = (e.params as { missingProperty: string }).missingProperty;
      if (suggested.has(`${e.instancePath}\0${key}`)) return undefined; // reported as a typo
      const child = joinPath(e.instancePath, key);
      return `${child} is required: expected ${expected(parent?.properties?.[key], child)}`;
    }
    case "additionalProperties": {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent?.properties ?? {});
      return unknownField(key, path, known);
    }
    case "type": {
      const def = defName(parent);
      const what = (def && DEF_EXPECTED[def]) ?? expected(parent, path);
      return `${subject(path)} must be ${what}, got ${show(value, path)}`;
    }
    case "pattern": {
      const def = defName(parent);
      if (def === "address") return `${path} must be ${DEF_EXPECTED.address}, got ${show(value, path)}`;
      if (def === "httpUrl") return `${path} must start with http:// or https://, got ${show(value, path)}`;
      if (def === "wsUrl") return `${path} must start with ws:// or wss://, got ${show(value, path)}`;
      if (def === "envName") return envNameProblem(path, value);
      if (/\.chatId$/.test(path)) {
        return `${path} must be a numeric chat id like "-1001234567890" or a channel's @username, got ${show(value, path)}`;
      }
      return `${path} does not have the expected form, got ${show(value, path)}`;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `${path} must be ${rangeWords(parent)}, got ${show(value, path)}`;
    case "minItems": {
      const n = (e.params as { limit: number }).limit;
      if (path === "targets") return `targets must list at least one target (a contract to protect)`;
      return `${path} must list at least ${n} item${n === 1 ? "" : "s"}`;
    }
    case "minLength":
      return `${path} must not be empty`;
    case "maxLength":
      return `${path} must be at most ${(e.params as { limit: number }).limit} characters long`;
    case "enum":
      return `${path} must be ${expected(parent, "")}, got ${show(value, path)}`;
    default:
      return `${subject(path)} ${e.message ?? "is invalid"}`;
  }
}

function unknownField(key: string, path: string, known: readonly string[]): string {
  const s = suggest(key, known);
  let msg = `unknown field ${JSON.stringify(key)} ${where(path)}`;
  if (s) msg += ` (did you mean ${JSON.stringify(s)}?)`;
  else if (known.length > 0 && known.length <= 8)
    msg += ` (expected one of ${known.map((k) => JSON.stringify(k)).join(", ")})`;
  if (/private.?key|secret|password|mnemonic|^key$/i.test(key) && !/Env$/.test(key)) {
    msg += "; secrets never go in the config file: name an environment variable instead";
  }
  return msg;
}

/** Closest known key within a small edit distance (case-insensitive), if any. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(best.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

// ---------------------------------------------------------------------------------------------
// Showing values without leaking secrets
// ---------------------------------------------------------------------------------------------

const KEY_LIKE = /^(0x)?[0-9a-fA-F]{64}$/;

/** True for a string that could be a private key (32 bytes of hex). */
function looksLikeKey(value: unknown): boolean {
  return typeof value === "string" && KEY_LIKE.test(value.trim());
}

/** A value for a message: short, and never a possible secret (key-like strings, env names' values, URL paths). */
function show(value: unknown, path: string): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    if (looksLikeKey(value)) return "a 32-byte hex string (not shown: it could be a private key)";
    if (/Env$/.test(path)) return "a string that is not a variable name (not shown)";
    if (/(^|\.)(url|rpcUrl|wsUrl)$/.test(path)) return `"${redactUrl(value)}"`;
    const s = value.length > 60 ? `${value.slice(0, 57)}…` : value;
    return typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)
      ? `the string ${JSON.stringify(s)}`
      : JSON.stringify(s);
  }
  return String(value);
}

/** Scheme and host only: URL paths, queries and user info often carry API keys or tokens. */

function envNameProblem(path: string, value: unknown): string {
  if (looksLikeKey(value)) {
    return (
      `${path} must be the NAME of an environment variable (like "VIGIL_SENTINEL_KEY"), not a key: ` +
      "the value looks like a private key (not shown); remove it from the file and treat that key as exposed"
    );
  }
  return `${path} must be ${DEF_EXPECTED.envName} (letters, digits and _, not starting with a digit); the value is not shown`;
}

// ---------------------------------------------------------------------------------------------
// Rules a schema cannot express
// ---------------------------------------------------------------------------------------------

function checkSentinel(sentinel: unknown, present: boolean): string[] {
  if (!present) return []; // "sentinel is required" comes from the schema
  if (!isObject(sentinel))
    return [`sentinel must be ${PATH_EXPECTED.sentinel}, got ${show(sentinel, "sentinel")}`];
  const problems: string[] = [];
  const fields = compile().sentinelFields;
  if (!fields(sentinel)) {
    for (const e of fields.errors ?? []) {
      const m = translate({ ...e, instancePath: `/sentinel${e.instancePath}` }, new Set());
      if (m) problems.push(m);
    }
  }
  const hasEnv = "privateKeyEnv" in sentinel;
  const hasKeystore = "keystore" in sentinel;
  const hasPassword = "passwordEnv" in sentinel;
  if (hasEnv && (hasKeystore || hasPassword)) {
    problems.push(
      `sentinel must name one key source, not both: either "privateKeyEnv" or "keystore" with "passwordEnv"`,
    );
  } else if (!hasEnv && !hasKeystore) {
    problems.push(`sentinel must name a key source: ${PATH_EXPECTED.sentinel}`);
  } else if (hasKeystore && !hasPassword) {
    problems.push(
      `sentinel.passwordEnv is required with sentinel.keystore: expected ${DEF_EXPECTED.envName}`,
    );
  } else if (hasPassword && !hasKeystore) {
    problems.push(
      `sentinel.keystore is required with sentinel.passwordEnv: expected the path of a JSON keystore`,
    );
  }
  return problems;
}

type Found = { path: string; value: string };

function checkSemantics(data: unknown): string[] {
  if (!isObject(data)) return [];
  const problems: string[] = [];

  // Addresses: checksum of mixed-case ones, no zero address where a contract is expected.
  const addresses: Found[] = [];
  if (typeof data.guardian === "string") addresses.push({ path: "guardian", value: data.guardian });
  const targets = Array.isArray(data.targets) ? data.targets : [];
  targets.forEach((t, i) => {
    if (!isObject(t)) return;
    if (typeof t.address === "string") addresses.push({ path: `targets[${i}].address`, value: t.address });
    const sources = isObject(t.hints) && Array.isArray(t.hints.priceSources) ? t.hints.priceSources : [];
    sources.forEach((s, j) => {
      if (typeof s === "string") addresses.push({ path: `targets[${i}].hints.priceSources[${j}]`, value: s });
    });
  });
  for (const { path, value } of addresses) {
    if (!ADDRESS.test(value)) continue; // the schema reported it
    if (!checksumOk(value)) {
      problems.push(
        `${path} "${value}" has a bad EIP-55 checksum (its mixed-case letters do not match): check it for a typo, ` +
          "or write it all in lowercase if you are sure of it",
      );
    } else if (/^0x0{40}$/.test(value) && !path.includes("priceSources")) {
      problems.push(`${path} must not be the zero address`);
    }
  }

  // Targets: each address and name once.
  const seenAddress = new Map<string, number>();
  const seenName = new Map<string, number>();
  targets.forEach((t, i) => {
    if (!isObject(t)) return;
    if (typeof t.address === "string" && ADDRESS.test(t.address)) {
      const k = t.address.toLowerCase();
      const first = seenAddress.get(k);
      if (first === undefined) seenAddress.set(k, i);
      else
        problems.push(
          `targets[${i}].address ${t.address} duplicates targets[${first}].address: list each contract once`,
        );
    }
    if (typeof t.name === "string") {
      const first = seenName.get(t.name);
      if (first === undefined) seenName.set(t.name, i);
      else
        problems.push(
          `targets[${i}].name "${t.name}" is already used by targets[${first}]: names must be unique`,
        );
    }
  });

  // URLs the schema's pattern accepted must also parse.
  const urls: Found[] = [];
  if (isObject(data.chain)) {
    if (typeof data.chain.rpcUrl === "string") urls.push({ path: "chain.rpcUrl", value: data.chain.rpcUrl });
    if (typeof data.chain.wsUrl === "string") urls.push({ path: "chain.wsUrl", value: data.chain.wsUrl });
  }
  const relays = Array.isArray(data.relays) ? data.relays : [];
  relays.forEach((r, i) => {
    if (isObject(r) && typeof r.url === "string") urls.push({ path: `relays[${i}].url`, value: r.url });
  });
  const webhooks = isObject(data.alerts) && Array.isArray(data.alerts.webhooks) ? data.alerts.webhooks : [];
  webhooks.forEach((w, i) => {
    if (isObject(w) && typeof w.url === "string")
      urls.push({ path: `alerts.webhooks[${i}].url`, value: w.url });
  });
  for (const { path, value } of urls) {
    if (!/^(https?|wss?):\/\/\S+$/i.test(value)) continue; // the schema reported it
    if (!parsesAsUrl(value)) problems.push(`${path} is not a valid URL (got "${redactUrl(value)}")`);
  }
  const relayUrls = new Map<string, number>();
  relays.forEach((r, i) => {
    if (!isObject(r) || typeof r.url !== "string") return;
    const first = relayUrls.get(r.url);
    if (first === undefined) relayUrls.set(r.url, i);
    else problems.push(`relays[${i}].url duplicates relays[${first}].url: list each relay once`);
  });

  // Webhook formats and the fields only some of them take.
  webhooks.forEach((w, i) => {
    if (!isObject(w)) return;
    const format = w.format ?? "json";
    const at = `alerts.webhooks[${i}]`;
    if (format === "pagerduty" && w.routingKeyEnv === undefined) {
      problems.push(
        `${at}.routingKeyEnv is required with format "pagerduty": name the environment variable that holds the routing key, like "VIGIL_PAGERDUTY_ROUTING_KEY"`,
      );
    }
    if (format !== "pagerduty" && w.routingKeyEnv !== undefined) {
      problems.push(
        `${at}.routingKeyEnv is only used with format "pagerduty" (this webhook is "${String(format)}")`,
      );
    }
    if (format === "telegram" && w.chatId === undefined) {
      problems.push(
        `${at}.chatId is required with format "telegram": the numeric chat id (like "-1001234567890") or a channel's @username`,
      );
    }
    if (format !== "telegram" && w.chatId !== undefined) {
      problems.push(`${at}.chatId is only used with format "telegram" (this webhook is "${String(format)}")`);
    }
    if (
      typeof w.routingKeyEnv === "string" &&
      ENV_NAME.test(w.routingKeyEnv) &&
      looksLikeKey(w.routingKeyEnv)
    ) {
      problems.push(envNameProblem(`${at}.routingKeyEnv`, w.routingKeyEnv));
    }
  });

  // Relays are needed to act.
  const response = isObject(data.response) ? data.response : {};
  const mode = response.mode ?? "active";
  if (mode === "active" && Array.isArray(data.relays) && data.relays.length === 0) {
    problems.push(`relays must list at least one relay unless response.mode is "shadow"`);
  }

  // Thresholds: alert strictly below pause (both already in 0..1, else the schema said so).
  const detection = isObject(data.detection) ? data.detection : {};
  const { alertThreshold: alert, pauseThreshold: pause } = detection;
  if (inUnit(alert) && inUnit(pause) && alert >= pause) {
    problems.push(`detection.alertThreshold (${alert}) must be below detection.pauseThreshold (${pause})`);
  }
  const baseline = isObject(detection.baseline) ? detection.baseline : {};
  const { window, minObservations } = baseline; // defaults already applied by the schema
  if (typeof window === "number" && typeof minObservations === "number" && window < minObservations) {
    problems.push(
      `detection.baseline.window (${window}) must be at least detection.baseline.minObservations (${minObservations})`,
    );
  }
  const { tipMarginGwei: margin, maxPriorityFeeGwei: maxTip } = response;
  if (
    typeof margin === "number" &&
    typeof maxTip === "number" &&
    margin >= 0 &&
    maxTip >= 0 &&
    margin > maxTip
  ) {
    problems.push(
      `response.tipMarginGwei (${margin}) must not exceed response.maxPriorityFeeGwei (${maxTip})`,
    );
  }

  // Env names: never a key pasted in place of a name; the relay-auth key is not the sentinel key.
  const envs: Found[] = [];
  if (typeof data.relayAuthKeyEnv === "string")
    envs.push({ path: "relayAuthKeyEnv", value: data.relayAuthKeyEnv });
  if (isObject(data.sentinel)) {
    for (const k of ["privateKeyEnv", "passwordEnv"] as const) {
      const v = data.sentinel[k];
      if (typeof v === "string") envs.push({ path: `sentinel.${k}`, value: v });
    }
  }
  for (const { path, value } of envs) {
    if (ENV_NAME.test(value) && looksLikeKey(value)) problems.push(envNameProblem(path, value));
  }
  if (
    isObject(data.sentinel) &&
    typeof data.relayAuthKeyEnv === "string" &&
    data.relayAuthKeyEnv === data.sentinel.privateKeyEnv
  ) {
    problems.push(
      "relayAuthKeyEnv must name a different variable than sentinel.privateKeyEnv: " +
        "the relay-auth key only signs requests to relays, keep it separate from the sentinel key",
    );
  }
  return problems;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** All-lowercase and all-uppercase carry no checksum; mixed case must be EIP-55. */
function checksumOk(address: string): boolean {
  const hex = address.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true;
  return getAddress(address) === address;
}

function parsesAsUrl(value: string): boolean {
  try {
    return new URL(value).host !== "";
  } catch {
    return false;
  }
}

function inUnit(x: unknown): x is number {
  return typeof x === "number" && x >= 0 && x <= 1;
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** `data` is valid and carries the schema's defaults (ajv `useDefaults`). */
function resolveConfig(data: VigilConfig, baseDir: string | undefined): ResolvedConfig {
  const path = (p: string): string => (baseDir === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const d = data as Required<VigilConfig>;
  const sentinel: SentinelConfig =
    "privateKeyEnv" in data.sentinel
      ? { privateKeyEnv: data.sentinel.privateKeyEnv }
      : { keystore: path(data.sentinel.keystore), passwordEnv: data.sentinel.passwordEnv };
  return {
    chain: { rpcUrl: d.chain.rpcUrl, wsUrl: d.chain.wsUrl, chainId: d.chain.chainId },
    guardian: getAddress(d.guardian),
    targets: d.targets.map((t) => ({
      address: getAddress(t.address),
      ...(t.name === undefined ? {} : { name: t.name }),
      hints: {
        priceSources: (t.hints?.priceSources ?? []).map((a) => getAddress(a)),
        ...(t.hints?.valueAtRiskUsd === undefined ? {} : { valueAtRiskUsd: t.hints.valueAtRiskUsd }),
      },
    })),
    sentinel,
    relays: d.relays.map((r) => ({ url: r.url, ...(r.name === undefined ? {} : { name: r.name }) })),
    ...(d.relayAuthKeyEnv === undefined ? {} : { relayAuthKeyEnv: d.relayAuthKeyEnv }),
    detection: (() => {
      const det = d.detection as ResolvedConfig["detection"];
      return det.model === undefined || det.model === "none" ? det : { ...det, model: path(det.model) };
    })(),
    simulator: d.simulator as ResolvedConfig["simulator"],
    response: d.response as ResolvedConfig["response"],
    record: { path: path((d.record as ResolvedConfig["record"]).path) },
    alerts: d.alerts as ResolvedConfig["alerts"],
    queue: d.queue as ResolvedConfig["queue"],
    ...(data.metrics === undefined
      ? {}
      : { metrics: data.metrics as NonNullable<ResolvedConfig["metrics"]> }),
    log: d.log as ResolvedConfig["log"],
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function cloneJson(x: unknown): unknown {
  const text = JSON.stringify(x);
  return text === undefined ? x : (JSON.parse(text) as unknown);
}

function dedupe(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function deepFreeze<T>(x: T): T {
  if (typeof x === "object" && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

export { redactUrl };
