import { createHash } from "node:crypto";

/** A value JSON can hold exactly. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Converts a value to plain JSON data: bigint becomes its decimal string, `undefined` (and
 * functions, symbols) are dropped from objects and become null in arrays (as JSON.stringify does),
 * non-finite numbers become null, objects with `toJSON` (Date) are converted through it, Uint8Array
 * becomes 0x-hex. Throws on a cycle, so a record can never be silently cut short.
 */
export function toJsonValue(value: unknown): JsonValue {
  return convert(value, new Set());
}

function convert(value: unknown, seen: Set<object>): JsonValue {
  switch (typeof value) {
    case "bigint":
      return value.toString(10);
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "undefined":
    case "function":
    case "symbol":
      return null;
    case "object": {
      if (value === null) return null;
      if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString("hex")}`;
      const withToJson = value as { toJSON?: unknown };
      if (typeof withToJson.toJSON === "function") return convert(withToJson.toJSON(), seen);
      if (seen.has(value)) throw new TypeError("cannot convert a value with a cycle to JSON");
      seen.add(value);
      try {
        if (Array.isArray(value)) return value.map((item) => convert(item, seen));
        if (value instanceof Map) return convert(Object.fromEntries(value), seen);
        if (value instanceof Set) return convert([...value], seen);
        const out: { [key: string]: JsonValue } = {};
        for (const [key, item] of Object.entries(value)) {
          if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
          out[key] = convert(item, seen);
        }
        return out;
      } finally {
        seen.delete(value);
      }
    }
  }
  return null;
}

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units) at every depth, no whitespace,
 * bigint as decimal strings, undefined dropped. The same data always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(toJsonValue(value)));
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key] as JsonValue);
    return out;
  }
  return value;
}

/** sha256 as 64 lowercase hex characters (no 0x). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const SECRET_KEY = /key|secret|password|mnemonic/i;
/** A run of exactly 64 hex characters (a 32-byte private key), with or without 0x. */
const HEX64 = /(?:^|[^0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])/;

/**
 * The path (like `event.signer.privateKey`) of the first value that looks like a private key: a
 * 64-hex-character string anywhere under a key named like key/secret/password/mnemonic. Returns
 * undefined when there is none. The value itself is never returned, so it cannot leak into errors.
 */
export function findSecretPath(value: JsonValue, path = "", underSecretKey = false): string | undefined {
  if (typeof value === "string") return underSecretKey && HEX64.test(value) ? path || "(root)" : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findSecretPath(item, `${path}[${i}]`, underSecretKey);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = findSecretPath(
        item,
        path ? `${path}.${key}` : key,
        underSecretKey || SECRET_KEY.test(key),
      );
      if (found) return found;
    }
  }
  return undefined;
}
