import { RpcError } from "../internal/errors.ts";

/**
 * Reads the hashes in a node's `txpool_content` as the answer streams in, without ever holding the
 * whole answer. A node that has fallen behind holds tens of thousands of transactions: parsing
 * that answer whole took the daemon's heap from ~100 MB to 372 MB (measured), and a reconnect
 * catch-up against a mainnet pool is the same size. Only the hashes are needed to find what the
 * subscription missed; those transactions are then fetched one batch at a time.
 */

/** `"hash"` then `: "0x` + 64 hex digits + `"`, with the whitespace JSON allows. */
const HASH_VALUE = /\s*:\s*"(0x[0-9a-fA-F]{64})"/y;
const KEY = '"hash"';
/** A key's value is complete within this many characters (key, colon, some whitespace, value). */
const MAX_ENTRY = 160;
/** An answer this small is parsed whole, to tell an error or a malformed answer from an empty pool. */
const SMALL_ANSWER = 64 * 1024;

/**
 * Scans JSON text fed in arbitrary chunks for `"hash": "0x…"` entries, calling `onHash` with each
 * (lowercased), in document order. Keys split across chunks are found: the scanner keeps the
 * unfinished tail of each chunk for the next.
 */
export function createHashScanner(onHash: (hash: string) => void) {
  let carry = "";
  return {
    push(chunk: string): void {
      const text = carry + chunk;
      let pos = 0;
      carry = "";
      for (;;) {
        const at = text.indexOf(KEY, pos);
        if (at < 0) {
          // A key may start in the last few characters: keep them.
          carry = text.slice(Math.max(pos, text.length - (KEY.length - 1)));
          return;
        }
        HASH_VALUE.lastIndex = at + KEY.length;
        const m = HASH_VALUE.exec(text);
        if (m?.[1]) {
          onHash(m[1].toLowerCase());
          pos = HASH_VALUE.lastIndex;
        } else if (text.length - at < MAX_ENTRY) {
          carry = text.slice(at); // the value may still be arriving
          return;
        } else {
          pos = at + KEY.length; // a "hash" whose value is not a transaction hash
        }
      }
    },
  };
}

export type PoolHashes = {
  /** Hashes for which `isKnown` said false, in document order, at most `limit`. */
  unknown: string[];
  /** Every transaction hash in the answer. */
  total: number;
  /** More unknown hashes than `limit` were there. */
  truncated: boolean;
};

/**
 * Posts `txpool_content` to `url` and streams the answer through the scanner. Hashes `isKnown`
 * accepts are only counted. Rejects with an RpcError (its `code` set for a JSON-RPC error, so
 * "method not found" is recognisable) when the node answers with an error or not at all.
 */
export async function readPoolHashes(
  url: string,
  options: { timeoutMs: number; isKnown: (hash: string) => boolean; limit: number; signal?: AbortSignal },
): Promise<PoolHashes> {
  const signal = options.signal
    ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)])
    : AbortSignal.timeout(options.timeoutMs);
  const out: PoolHashes = { unknown: [], total: 0, truncated: false };
  const scanner = createHashScanner((hash) => {
    out.total++;
    if (options.isKnown(hash)) return;
    if (out.unknown.length < options.limit) out.unknown.push(hash);
    else out.truncated = true;
  });
  let head = "";
  let size = 0;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "txpool_content", params: [] }),
      signal,
    });
    if (!res.body) throw new RpcError(`txpool_content: ${url} answered HTTP ${res.status} without a body`);
    const decoder = new TextDecoder();
    for await (const bytes of res.body) {
      const text = decoder.decode(bytes, { stream: true });
      size += text.length;
      if (head.length < SMALL_ANSWER) head += text.slice(0, SMALL_ANSWER - head.length);
      scanner.push(text);
    }
    scanner.push(decoder.decode());
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw new RpcError(`txpool_content: no answer from ${url}`, {
      hint: "check the node is running and reachable",
      cause: error,
    });
  }
  if (size <= SMALL_ANSWER) checkSmallAnswer(head, url);
  return out;
}

/** A small answer may be an error rather than a pool: parse it whole and say which. */
function checkSmallAnswer(text: string, url: string): void {
  let body: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new RpcError(`txpool_content: ${url} answered with non-JSON`, {
      details: [text.slice(0, 200)],
      cause: error,
    });
  }
  if (body.error) {
    const code = typeof body.error.code === "number" ? body.error.code : undefined;
    throw new RpcError(
      `txpool_content: ${typeof body.error.message === "string" ? body.error.message : "error"}`,
      { ...(code === undefined ? {} : { code, details: [`code ${code}`] }), data: body.error.data },
    );
  }
  if (typeof body.result !== "object" || body.result === null || Array.isArray(body.result))
    throw new RpcError("txpool_content: the node's answer holds no pool object", {
      details: [text.slice(0, 200)],
    });
}
