import http from "node:http";
import type { AddressInfo } from "node:net";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";

/**
 * A state cache between the forks and the upstream node, that survives new heads.
 *
 * Forks fetch state lazily (balance, nonce, code, storage slot by slot) at their fork block, and
 * a fork reset to a new head starts with an empty cache: every simulation after a head pays one
 * upstream round trip per account and slot it touches, which with a remote node (tens of ms per
 * trip) is most of a simulation's time. Yet a block changes only the state its transactions
 * touched. This proxy answers the forks' state reads from memory, and on each new head asks the
 * upstream node for that block's state diff (`debug_traceBlockByNumber`, prestateTracer in diff
 * mode: every account and slot any transaction changed) and forgets exactly those entries. What
 * the block did not change stays valid. A block the node cannot diff (or a reorganisation, seen
 * as a parent hash that does not match) clears the cache: it is never wrong, only colder.
 *
 * Answers are keyed by the block they are valid from; a read at block N is served from an entry
 * only when N is at or after that block and every block up to N has been applied.
 */

export type StateCacheStats = {
  hits: number;
  misses: number;
  passThrough: number;
  entries: number;
  blocksApplied: number;
  invalidated: number;
  clears: number;
  diffFailures: number;
  knownBlock: string;
};

export type StateCache = {
  /** The URL forks use as their upstream. */
  readonly url: string;
  /** Apply the state diffs of every block up to `head` (serialised; resolves when applied). */
  advance(head: bigint): Promise<void>;
  stats(): StateCacheStats;
  stop(): Promise<void>;
};

type JsonRpcRequest = { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown };
type Answer = { result?: unknown; error?: unknown };
type AccountDiff = { balance?: string; nonce?: number; code?: string; storage?: Record<string, string> };
type BlockDiff = { pre?: Record<string, AccountDiff>; post?: Record<string, AccountDiff> };

/** Account-level reads: the address is the first parameter, the block the last. */
const ACCOUNT_METHODS = new Set([
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getAccountInfo",
]);
/**
 * System contracts written at the start of a block by the protocol itself, not by a transaction
 * (EIP-4788 beacon roots, EIP-2935 block hashes, EIP-7002 / EIP-7251 request queues): a block's
 * transaction traces do not show those writes, so they are never cached.
 */
const UNCACHED = new Set([
  "0x000f3df6d732807ef1319fb7b8bb8522d0beac02",
  "0x0000f90827f1c53a10cb7a02335b175320002935",
  "0x00000961ef480eb55e80d19ad83579a64c007002",
  "0x0000bbddc7ce488642fb579f8b00f3a590007251",
]);
/** Beyond this many blocks behind, replaying diffs costs more than starting cold. */
const MAX_CATCH_UP = 32n;
const MAX_BLOCK_ENTRIES = 16;

const isBlockNumber = (x: unknown): x is string => typeof x === "string" && /^0x[0-9a-fA-F]+$/.test(x);

export async function startStateCache(options: {
  upstreamUrl: string;
  logger: Logger;
  /** Most state entries kept; the oldest are dropped beyond it. */
  maxEntries?: number;
  timeoutMs?: number;
}): Promise<StateCache> {
  const { upstreamUrl, logger } = options;
  const maxEntries = options.maxEntries ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  /** State answers by key, with the block from which each is known to hold. */
  const state = new Map<string, { value: unknown; block: bigint }>();
  /** Keys by address, so a changed account forgets all of its entries. */
  const keysByAddress = new Map<string, Set<string>>();
  /** Answers that never change: numbered blocks, chain id. */
  const fixed = new Map<string, unknown>();
  const inflight = new Map<string, Promise<Answer>>();
  const stats = {
    hits: 0,
    misses: 0,
    passThrough: 0,
    blocksApplied: 0,
    invalidated: 0,
    clears: 0,
    diffFailures: 0,
  };
  /** Every block up to this one has been applied (-1: nothing known yet). */
  let known = -1n;
  let knownHash: string | undefined;
  let applying: Promise<void> = Promise.resolve();
  let wanted = -1n;
  let stopped = false;
  let warnedDiff = false;

  let nextId = 1;
  async function upstream(method: string, params: unknown[]): Promise<Answer> {
    const res = await fetch(upstreamUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as Answer;
    return body.error === undefined ? { result: body.result } : { error: body.error };
  }

  function clear(reason: string) {
    if (state.size > 0) logger.debug({ reason, entries: state.size }, "State cache cleared");
    state.clear();
    keysByAddress.clear();
    stats.clears++;
  }

  function forget(address: string, onlyKeys?: readonly string[]) {
    const keys = keysByAddress.get(address);
    if (!keys) return;
    for (const k of onlyKeys ?? [...keys]) {
      if (state.delete(k)) stats.invalidated++;
      keys.delete(k);
    }
    if (keys.size === 0) keysByAddress.delete(address);
  }

  const accountKeys = (a: string) => [...ACCOUNT_METHODS].map((m) => `${m}:${a}`);
  const slotKey = (a: string, slot: string) => `eth_getStorageAt:${a}:${BigInt(slot).toString(16)}`;

  async function applyBlock(n: bigint): Promise<void> {
    const tag = `0x${n.toString(16)}`;
    const [header, diff] = await Promise.all([
      upstream("eth_getBlockByNumber", [tag, false]),
      upstream("debug_traceBlockByNumber", [
        tag,
        { tracer: "prestateTracer", tracerConfig: { diffMode: true } },
      ]),
    ]);
    const block = header.result as {
      hash?: string;
      parentHash?: string;
      withdrawals?: { address: string }[];
    } | null;
    if (!block?.hash) throw new Error(`block ${n} not found upstream`);
    if (knownHash !== undefined && block.parentHash !== knownHash) clear(`reorganisation at block ${n}`);
    if (diff.error !== undefined || !Array.isArray(diff.result)) {
      stats.diffFailures++;
      if (!warnedDiff) {
        warnedDiff = true;
        logger.warn(
          { block: Number(n), error: diff.error },
          "Upstream cannot give block state diffs (debug_traceBlockByNumber); the fork state cache is cleared every block",
        );
      }
      clear("no state diff");
    } else {
      for (const item of diff.result as { result?: BlockDiff }[]) {
        const d = item.result ?? (item as BlockDiff);
        for (const side of [d.pre ?? {}, d.post ?? {}]) {
          for (const [address, account] of Object.entries(side)) {
            const a = address.toLowerCase();
            const deleted =
              d.pre?.[address] !== undefined && d.post?.[address] === undefined && side === d.pre;
            if (deleted || account.code !== undefined) forget(a);
            else {
              forget(a, accountKeys(a));
              forget(
                a,
                Object.keys(account.storage ?? {}).map((slot) => slotKey(a, slot)),
              );
            }
          }
        }
      }
      // Validator withdrawals credit balances outside any transaction.
      for (const w of block.withdrawals ?? [])
        forget(w.address.toLowerCase(), accountKeys(w.address.toLowerCase()));
    }
    known = n;
    knownHash = block.hash;
    stats.blocksApplied++;
  }

  /** Never rejects: whatever fails leaves the cache empty (cold), never wrong. */
  async function catchUp(): Promise<void> {
    while (!stopped && known < wanted) {
      const target = wanted;
      try {
        if (known < 0n || target - known > MAX_CATCH_UP) {
          // Nothing cached yet, or too far behind to replay: start from this block, cold. Nothing
          // is remembered while `known` is unset, so no answer from before the gap survives it.
          known = -1n;
          knownHash = undefined;
          clear("start or gap");
          const h = await upstream("eth_getBlockByNumber", [`0x${target.toString(16)}`, false]);
          knownHash = (h.result as { hash?: string } | null)?.hash;
          known = target;
        } else {
          await applyBlock(known + 1n);
        }
      } catch (error) {
        logger.warn({ err: describeError(error) }, "State cache could not apply a block; starting cold");
        clear("apply failed");
        known = -1n;
        knownHash = undefined;
        return; // the next head retries
      }
    }
  }

  function advance(head: bigint): Promise<void> {
    if (head <= wanted) return applying;
    wanted = head;
    applying = applying.then(catchUp);
    return applying;
  }

  function remember(key: string, address: string, value: unknown, block: bigint) {
    if (state.size >= maxEntries) {
      const oldest = state.keys().next().value as string;
      state.delete(oldest);
    }
    state.set(key, { value, block });
    let keys = keysByAddress.get(address);
    if (!keys) {
      keys = new Set();
      keysByAddress.set(address, keys);
    }
    keys.add(key);
  }

  async function answer(req: JsonRpcRequest): Promise<Answer> {
    const method = typeof req.method === "string" ? req.method : "";
    const params = Array.isArray(req.params) ? req.params : [];
    if (
      method === "eth_chainId" ||
      (method === "eth_getBlockByNumber" && isBlockNumber(params[0])) ||
      method === "eth_getBlockByHash"
    ) {
      const key = `${method}:${JSON.stringify(params)}`;
      if (fixed.has(key)) {
        stats.hits++;
        return { result: fixed.get(key) };
      }
      const a = await upstream(method, params);
      if (a.error === undefined && a.result !== null) {
        if (fixed.size >= MAX_BLOCK_ENTRIES) fixed.delete(fixed.keys().next().value as string);
        fixed.set(key, a.result);
      }
      stats.misses++;
      return a;
    }
    const isAccount = ACCOUNT_METHODS.has(method);
    const isSlot = method === "eth_getStorageAt";
    const address = typeof params[0] === "string" ? params[0].toLowerCase() : undefined;
    const blockParam = params[isSlot ? 2 : 1];
    if ((!isAccount && !isSlot) || !address || UNCACHED.has(address) || !isBlockNumber(blockParam)) {
      stats.passThrough++;
      return upstream(method, params);
    }
    if (isSlot && typeof params[1] !== "string") return upstream(method, params);
    const n = BigInt(blockParam);
    if (n > known && n <= wanted) await applying; // the head the forks moved to is being applied
    const key = isSlot ? slotKey(address, params[1] as string) : `${method}:${address}`;
    const entry = state.get(key);
    if (entry && entry.block <= n && n <= known) {
      stats.hits++;
      return { result: entry.value };
    }
    stats.misses++;
    const flightKey = `${key}@${n}`;
    let p = inflight.get(flightKey);
    if (!p) {
      p = upstream(method, params).finally(() => inflight.delete(flightKey));
      inflight.set(flightKey, p);
      const at = known;
      void p.then((a) => {
        // Only an answer at the newest applied block can be carried forward by later diffs.
        if (a.error === undefined && n === at && known === at) remember(key, address, a.result, n);
      });
    }
    return p;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }),
          );
          return;
        }
        const one = async (r: JsonRpcRequest) => {
          try {
            return { jsonrpc: "2.0", id: r.id ?? null, ...(await answer(r)) };
          } catch (error) {
            return {
              jsonrpc: "2.0",
              id: r.id ?? null,
              error: { code: -32603, message: `state cache: upstream failed: ${describeError(error)}` },
            };
          }
        };
        const out = Array.isArray(body)
          ? await Promise.all((body as JsonRpcRequest[]).map(one))
          : await one(body as JsonRpcRequest);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(out));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    advance,
    stats: () => ({ ...stats, entries: state.size, knownBlock: known.toString() }),
    async stop() {
      stopped = true;
      await applying.catch(() => {});
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
