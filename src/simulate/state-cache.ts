import http from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, type Hex } from "viem";
import { describeError } from "../internal/errors.ts";
import { postJson } from "../internal/http-post.ts";
import type { Logger } from "../internal/logger.ts";
import { blockOverrides, CALL_TRACER, type CallShape, callOf } from "./simulate.ts";
import type { StateOverlay } from "./types.ts";

/**
 * A state cache between the forks and the upstream node, warm at every new head.
 *
 * Forks fetch state lazily (balance, nonce, code, storage slot by slot) as the EVM asks for it,
 * and a fork reset to a new head starts empty: each simulation after a head paid one upstream
 * round trip per account and slot, one after the other (with a 30 ms remote node, over a second
 * for an attack). Yet consecutive blocks' simulations read mostly the same state: the protected
 * contracts, their oracles and pools, tokens, routers. This proxy remembers which state the forks
 * read recently (the hot set) and, the moment a new head is announced, reads all of it at that
 * head in JSON-RPC batches, a few at a time (PREFETCH_WAVE); forks that reset to the head then find
 * it in memory, and concurrent forks asking for the same value share one upstream request.
 *
 * A fork reset to the head still asks for each value it uses, one local round trip each. Loading
 * everything known into each fork after its reset (`anvil_loadState`) was tried and removed: at
 * 200 tx/s the dump was ~470 KB of JSON and took ~100 ms to load, during which Anvil holds the
 * fork's state, and an attack calling a contract deployed in the newest block waited for it (seen
 * -> bundle p50 168 ms in a two-minute run, 73-84 ms without the load).
 *
 * The answers at the head before are kept too: forks serving a head behind (while the others
 * reset) read them from memory. And for a dangerous transaction the cache reads ahead everything
 * it will touch at the head, values and all (`readAheadFor`): the simulation is given that state
 * as an overlay, and runs as at the head even on a fork a head behind.
 *
 * Values are only ever served for the block they were read at, so the cache cannot be stale:
 * there is no invalidation to get wrong. (A state diff per block would carry values across heads,
 * but tracing a block costs seconds on Anvil: 3.6 s for 200 transactions on this machine.)
 */

export type StateCacheStats = {
  /** Reads answered from memory (prefetched, or already fetched by another fork at this head). */
  hits: number;
  /** State reads at the current head that went upstream. */
  misses: number;
  /**
   * Reads that went upstream without being cached for the current head: at another block, of
   * other methods, or misses at the head before (kept for forks serving a head behind).
   */
  passThrough: number;
  /** Blocks and chain id fetched (once each: they never change). */
  blockFetches: number;
  /** Values read ahead at new heads. */
  prefetched: number;
  prefetchFailures: number;
  /** Access lists asked of the upstream node for cold transactions (`readAheadFor`), and failures. */
  accessLists: number;
  accessListFailures: number;
  /** Prestate traces asked of the upstream node instead (one round trip, values included), and failures. */
  prestates: number;
  prestateFailures: number;
  /** Call trees traced by the node alongside a prestate (`readAheadFor` with `callTree`), and failures. */
  callTrees: number;
  callTreeFailures: number;
  hotKeys: number;
  head: string;
};

export type StateCache = {
  /** The URL forks use as their upstream. */
  readonly url: string;
  /** A new head: read the hot set at it (resolves when the reads are answered). */
  advance(head: bigint): Promise<void>;
  /**
   * Keeps the hot state of these accounts hot: they were used at the current head. A fork that
   * serves several simulations at one head fetches a value once, so its fetches alone undercount
   * what the simulations keep using; their call trees say what they used.
   */
  keepWarm(addresses: Iterable<string>): void;
  /**
   * Reads ahead what a transaction will touch, and returns it as an overlay (see below); with
   * `callTree`, also the call's tree as the node traces it in block `next` (`StateOverlay.callTree`).
   */
  readAheadFor(
    tx: CallShape,
    next?: NextBlock,
    options?: ReadAheadOptions,
  ): Promise<StateOverlay | undefined>;
  /**
   * The call's tree as the node traces it at the current head in block `next` (which must be
   * the head's next), without reading its state: for a call screened on the node itself.
   * Undefined if the node could not (or does not trace calls); never rejects.
   */
  callTreeFor(
    tx: CallShape,
    next: NextBlock,
    options?: Pick<ReadAheadOptions, "gasCap">,
  ): Promise<{ head: bigint; callTree: unknown } | undefined>;
  /** Whether any state of `address` was read at one of the last heads. */
  isHot(address: string): boolean;
  /**
   * The upstream node's round trip as the cache sees it: the quickest of its latest requests
   * (ms); undefined before any.
   */
  nodeRttMs(): number | undefined;
  /**
   * Whether `address` had no code when read at one of the last NEW_CODE_HEADS heads: a contract
   * deployed lately (or not yet at all). Nothing the forks hold covers it (one still at the
   * previous head may not even have its code), and an attack calls its contract soon after
   * deploying it.
   */
  codeIsNew(address: string): boolean;
  stats(): StateCacheStats;
  stop(): Promise<void>;
};

export type ReadAheadOptions = {
  /** Also have the node trace the call's tree (`StateOverlay.callTree`). */
  callTree?: boolean;
  /** The call's gas at most this (as the simulation runs it). */
  gasCap?: bigint;
};

/** The block a pending transaction is expected in (after the head the cache is at). */
type NextBlock = { number: bigint; timestamp: bigint };
type JsonRpcRequest = { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown };
type Answer = { result?: unknown; error?: unknown };

/** Account-level reads: the address is the first parameter, the block the last. */
const ACCOUNT_METHODS = new Set([
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getAccountInfo",
]);
/** Which field of an eth_getAccountInfo answer each single account read is. */
const ACCOUNT_FIELDS: Record<string, string> = {
  eth_getBalance: "balance",
  eth_getTransactionCount: "nonce",
  eth_getCode: "code",
};
const MAX_FIXED_ENTRIES = 16;
/**
 * How many heads a contract counts as new after its address was last read without code (see
 * `codeIsNew`): the fire drill's attacks come a few blocks after their contract's deployment.
 */
const NEW_CODE_HEADS = 16n;
/** A key not read for this many heads leaves the hot set. */
const HOT_HEADS = 32n;
/**
 * Reads per batch. Small batches: a fork waiting for one value waits for its batch only, and
 * the node answers the batches of a wave in parallel (one batch of 2,000 reads held every read after a
 * head for ~100 ms on a local node).
 */
const PREFETCH_BATCH = 50;
/**
 * A head's read ahead goes out this many batches at a time, each wave when the last is answered:
 * all at once, a dangerous call's tree read on the node in the first 50 ms after a head waited
 * behind ~1,000 reads (probe: 6.4 ms at p50 at +10 ms, 2.6 without the read ahead).
 */
const PREFETCH_WAVE = 4;
/** The next wave waits while a dangerous call is read on the node, up to this long per head. */
const URGENT_HOLD_MS = 20;
/**
 * A node whose quickest recent round trip (`nodeRttMs`) is at most this is near: its CPU is as
 * good as ours (the guardian screens dangerous calls on it), and a head's read ahead goes out in
 * waves to leave it free. Far from it, a wave costs a round trip, and a fork needing a value of
 * the last one waited ~5 of them (with 30 ms, a pause's proof 80-120 ms instead of 7): there the
 * read ahead goes out at once.
 */
export const NEAR_NODE_RTT_MS = 5;

/** How many of the latest requests upstream `nodeRttMs` looks at. */
const RTT_WINDOW = 64;

const isBlockNumber = (x: unknown): x is string => typeof x === "string" && /^0x[0-9a-fA-F]+$/.test(x);

export async function startStateCache(options: {
  upstreamUrl: string;
  logger: Logger;
  /** Most keys read ahead at each head. */
  maxHot?: number;
  timeoutMs?: number;
  /** The node's quickest recent round trip up to which it counts as near (NEAR_NODE_RTT_MS). */
  nearRttMs?: number;
}): Promise<StateCache> {
  const { upstreamUrl, logger } = options;
  const maxHot = options.maxHot ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const nearRttMs = options.nearRttMs ?? NEAR_NODE_RTT_MS;
  /** Answers at the current head, by key (promises: shared while in flight). */
  let values = new Map<string, Promise<Answer>>();
  /**
   * Answers at the head before (empty if it was not the previous head): forks serving a head
   * behind while the others reset read there, and an overlay leaves out code that did not change.
   */
  let previous = new Map<string, Promise<Answer>>();
  /** Recently read keys: how to read them again, and the last head they were read at. */
  const hot = new Map<string, { method: string; args: unknown[]; lastHead: bigint }>();
  /** Hot keys by account (lower-case address). */
  const hotByAddress = new Map<string, Set<string>>();
  /** The last head at which an account's code was read empty, for the last NEW_CODE_HEADS heads. */
  const emptyCodeAt = new Map<string, bigint>();
  /** Notes an account read at head `n` that found no code (see `codeIsNew`). */
  const noteCode = (key: string, answer: Promise<Answer>, n: bigint): Promise<Answer> => {
    if (!key.startsWith("eth_getCode:") && !key.startsWith("eth_getAccountInfo:")) return answer;
    void answer.then(
      (a) => {
        const r = a.result;
        const code = typeof r === "string" ? r : (r as { code?: unknown } | null)?.code;
        const address = key.slice(key.indexOf(":") + 1);
        if (code === "0x" && (emptyCodeAt.get(address) ?? -1n) < n) emptyCodeAt.set(address, n);
      },
      () => {},
    );
    return answer;
  };
  const forget = (key: string) => {
    const h = hot.get(key);
    if (!h) return;
    hot.delete(key);
    const address = h.args[0] as string;
    const keys = hotByAddress.get(address);
    keys?.delete(key);
    if (keys?.size === 0) hotByAddress.delete(address);
  };
  /** Answers that never change: numbered blocks, chain id (promises: shared while in flight). */
  const fixed = new Map<string, Promise<Answer>>();
  const stats = {
    hits: 0,
    misses: 0,
    passThrough: 0,
    blockFetches: 0,
    prefetched: 0,
    prefetchFailures: 0,
    accessLists: 0,
    accessListFailures: 0,
    prestates: 0,
    prestateFailures: 0,
    callTrees: 0,
    callTreeFailures: 0,
  };
  let head = -1n;
  let stopped = false;
  let warned = false;
  let nextId = 1;

  /** How long the last RTT_WINDOW requests upstream took (ms), oldest first overwritten. */
  const took: number[] = [];
  let tookNext = 0;
  const quickestRtt = () => (took.length === 0 ? undefined : Math.min(...took));
  async function post(body: unknown): Promise<unknown> {
    const started = performance.now();
    const { text } = await postJson(upstreamUrl, JSON.stringify(body), timeoutMs);
    const answer: unknown = JSON.parse(text);
    took[tookNext] = performance.now() - started;
    tookNext = (tookNext + 1) % RTT_WINDOW;
    return answer;
  }
  const toAnswer = (body: Answer): Answer =>
    body.error === undefined ? { result: body.result } : { error: body.error };
  const upstream = async (method: string, params: unknown[]): Promise<Answer> =>
    toAnswer((await post({ jsonrpc: "2.0", id: nextId++, method, params })) as Answer);

  /** The key of a state read, and its parameters without the block; undefined if not cacheable. */
  function stateKey(
    method: string,
    params: unknown[],
  ): { key: string; args: unknown[]; block: unknown } | undefined {
    const address = typeof params[0] === "string" ? params[0].toLowerCase() : undefined;
    if (!address) return undefined;
    if (ACCOUNT_METHODS.has(method))
      return { key: `${method}:${address}`, args: [address], block: params[1] };
    if (method === "eth_getStorageAt" && typeof params[1] === "string") {
      const slot = `0x${BigInt(params[1]).toString(16)}`;
      return { key: `eth_getStorageAt:${address}:${slot}`, args: [address, slot], block: params[2] };
    }
    return undefined;
  }

  /** Dangerous calls' reads on the node in flight (`urgently`), and who waits for none. */
  let urgentReads = 0;
  const urgentWaiters: (() => void)[] = [];
  async function urgently<T>(read: () => Promise<T>): Promise<T> {
    urgentReads++;
    try {
      return await read();
    } finally {
      urgentReads--;
      if (urgentReads === 0) for (const wake of urgentWaiters.splice(0)) wake();
    }
  }
  /** Resolves when no dangerous call's read is in flight, or after `ms`. */
  const noUrgentRead = (ms: number): Promise<void> =>
    urgentReads === 0 || ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          urgentWaiters.push(resolve);
          setTimeout(resolve, ms);
        });

  /** Reads every hot key at head `n` in waves (see PREFETCH_WAVE); their answers fill `current`. */
  function prefetch(n: bigint, current: Map<string, Promise<Answer>>): Promise<void> {
    // Most recently read first: what the last head's simulations needed is asked for first.
    const items = [...hot.entries()]
      .filter(([key]) => !current.has(key))
      .sort((a, b) => (a[1].lastHead > b[1].lastHead ? -1 : a[1].lastHead < b[1].lastHead ? 1 : 0));
    const rtt = quickestRtt();
    return readAhead(n, current, items, { waves: rtt === undefined || rtt <= nearRttMs });
  }

  /**
   * Reads `items` at head `n` in batches, all sent at once or (`waves`) PREFETCH_WAVE at a time;
   * their answers (promises, set at once) fill `current`.
   */
  async function readAhead(
    n: bigint,
    current: Map<string, Promise<Answer>>,
    items: [string, { method: string; args: unknown[] }][],
    options: { waves?: boolean } = {},
  ): Promise<void> {
    const tag = `0x${n.toString(16)}`;
    const requests: Promise<unknown>[] = [];
    /** Resolves when the wave before the next batch's is answered (and no urgent read holds it). */
    let wave: Promise<unknown> = Promise.resolve();
    let inWave: Promise<unknown>[] = [];
    let holdLeft = URGENT_HOLD_MS;
    for (let i = 0; i < items.length; i += PREFETCH_BATCH) {
      if (options.waves && inWave.length === PREFETCH_WAVE) {
        const answered = Promise.allSettled(inWave);
        wave = answered.then(async () => {
          const started = performance.now();
          await noUrgentRead(holdLeft);
          holdLeft -= performance.now() - started;
        });
        inWave = [];
      }
      const chunk = items.slice(i, i + PREFETCH_BATCH);
      const ids = chunk.map(() => nextId++);
      const request = wave
        .then(() =>
          post(
            chunk.map(([, h], j) => ({
              jsonrpc: "2.0",
              id: ids[j],
              method: h.method,
              params: [...h.args, tag],
            })),
          ),
        )
        .then((body) => {
          if (!Array.isArray(body)) throw new Error("the node does not answer JSON-RPC batches");
          return new Map((body as (Answer & { id: number })[]).map((b) => [b.id, toAnswer(b)]));
        });
      inWave.push(request);
      chunk.forEach(([key, h], j) => {
        const again = () => upstream(h.method, [...h.args, tag]);
        // A failed read ahead is not an answer: the read goes upstream on its own instead.
        current.set(
          key,
          noteCode(
            key,
            request.then(
              (byId) => {
                const a = byId.get(ids[j] as number);
                return a && a.error === undefined ? a : again();
              },
              () => again(),
            ),
            n,
          ),
        );
      });
      stats.prefetched += chunk.length;
      requests.push(
        request.catch((error) => {
          stats.prefetchFailures++;
          if (!warned) {
            warned = true;
            logger.warn(
              { err: describeError(error) },
              "State cache could not read ahead at a new head; forks read state on demand",
            );
          }
        }),
      );
    }
    await Promise.all(requests);
  }

  /**
   * Blocks and the chain id: fetched once, shared by every fork (a reset reads its block twice).
   *
   * A block asked for with its transactions is answered without them: an Anvil fork reads its
   * fork block whole at every reset, only to keep it in its history, and nothing the forks run
   * reads that block's transactions (a transaction's own lookup goes upstream by hash). Building
   * a full block is the node's work, not the wire's: 49 ms for 300 transactions on Anvil, at
   * every head, against 2 ms for the header and hashes; the fork's reset took 70 ms instead of 15.
   */
  function fixedAnswer(method: string, params: unknown[]): Promise<Answer> {
    if ((method === "eth_getBlockByNumber" || method === "eth_getBlockByHash") && params[1] === true) {
      return fixedAnswer(method, [params[0], false]).then((a) =>
        a.result !== null && typeof a.result === "object"
          ? { result: { ...(a.result as Record<string, unknown>), transactions: [] } }
          : a,
      );
    }
    const key = `${method}:${JSON.stringify(params)}`;
    const known = fixed.get(key);
    if (known) {
      stats.hits++;
      return known;
    }
    stats.blockFetches++;
    const p = upstream(method, params);
    if (fixed.size >= MAX_FIXED_ENTRIES) fixed.delete(fixed.keys().next().value as string);
    fixed.set(key, p);
    // Errors and unknown blocks (null) are not remembered.
    void p.then(
      (a) => {
        if (a.error !== undefined || a.result === null) fixed.delete(key);
      },
      () => fixed.delete(key),
    );
    return p;
  }

  function advance(n: bigint): Promise<void> {
    if (n <= head || stopped) return Promise.resolve();
    previous = n === head + 1n ? values : new Map();
    head = n;
    values = new Map();
    for (const [key, h] of hot) if (h.lastHead + HOT_HEADS < n) forget(key);
    for (const [address, at] of emptyCodeAt) if (at + NEW_CODE_HEADS < n) emptyCodeAt.delete(address);
    // A fork reset to this head reads its block first.
    const block = fixedAnswer("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    return Promise.all([prefetch(n, values), block.catch(() => undefined)]).then(() => undefined);
  }

  /** Whether the node traces calls (`debug_traceCall`): until it says it does not. */
  let traces = true;
  /** Notes a node that says it has no `debug_traceCall` (-32601, or -32004 unsupported): not asked again. */
  const refusesTraces = (a: Answer | undefined) => {
    const code = (a?.error as { code?: unknown } | undefined)?.code;
    if (traces && (code === -32601 || code === -32004)) {
      traces = false;
      logger.info("The upstream node does not trace calls: reading ahead from access lists instead");
    }
  };
  type Prestate = Map<string, { balance: string; nonce: string; code: string; storage: [string, string][] }>;
  /**
   * Every account and slot a call touches at block `tag`, with their values, in one round trip:
   * the node's `prestateTracer`. Undefined if the node cannot (one that has no such method is not
   * asked again) or answers something else.
   */
  async function prestateOf(call: object, tag: string, next?: NextBlock): Promise<Prestate | undefined> {
    stats.prestates++;
    const a = await upstream("debug_traceCall", [
      call,
      tag,
      {
        tracer: "prestateTracer",
        // In the block it would be mined in: a path that depends on the time reads what it will.
        ...(next ? { blockOverrides: blockOverrides(next) } : {}),
      },
    ]).catch(() => undefined);
    const result = a?.result;
    if (a === undefined || a.error !== undefined || result === null || typeof result !== "object") {
      stats.prestateFailures++;
      refusesTraces(a);
      return undefined;
    }
    const hex = (v: unknown, fallback: string) =>
      typeof v === "string" && /^0x[0-9a-fA-F]*$/.test(v)
        ? v
        : typeof v === "number" && Number.isSafeInteger(v) && v >= 0
          ? `0x${v.toString(16)}`
          : fallback;
    const out: Prestate = new Map();
    for (const [address, raw] of Object.entries(result as Record<string, unknown>)) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(address) || raw === null || typeof raw !== "object") return undefined;
      const acc = raw as { balance?: unknown; nonce?: unknown; code?: unknown; storage?: unknown };
      const storage = Object.entries((acc.storage ?? {}) as Record<string, unknown>).flatMap(
        ([slot, value]): [string, string][] =>
          isBlockNumber(slot) && typeof value === "string" && isBlockNumber(value) ? [[slot, value]] : [],
      );
      out.set(address.toLowerCase(), {
        balance: hex(acc.balance, "0x0"),
        nonce: hex(acc.nonce, "0x0"),
        code: hex(acc.code, "0x"),
        storage,
      });
    }
    return out;
  }

  /**
   * The call's tree (callTracer, with logs) as the node traces it at block `tag` in block `next`;
   * undefined if it could not (the simulation then traces it on a fork).
   */
  async function callTreeOf(call: object, tag: string, next: NextBlock): Promise<unknown> {
    stats.callTrees++;
    const a = await upstream("debug_traceCall", [
      call,
      tag,
      { ...CALL_TRACER, blockOverrides: blockOverrides(next) },
    ]).catch(() => undefined);
    if (a === undefined || a.error !== undefined || a.result === null || typeof a.result !== "object") {
      stats.callTreeFailures++;
      refusesTraces(a);
      return undefined;
    }
    return a.result;
  }

  async function callTreeFor(
    tx: CallShape,
    next: NextBlock,
    options: Pick<ReadAheadOptions, "gasCap"> = {},
  ): Promise<{ head: bigint; callTree: unknown } | undefined> {
    const n = head;
    if (n < 0n || stopped || !traces || next.number !== n + 1n) return undefined;
    const callTree = await urgently(() =>
      callTreeOf(callOf(tx, options.gasCap), `0x${n.toString(16)}`, next),
    );
    return callTree === undefined ? undefined : { head: n, callTree };
  }

  /**
   * Reads ahead at the current head the state `tx` will touch. A transaction from a contract
   * nobody used before (an attack's, typically) finds nothing in the hot set, and its fork fetches
   * each account and slot one round trip after the other: with a 30 ms remote node, ~450 ms for
   * the benchmark's first attack. Here it costs one round trip where the node traces calls (its
   * `prestateTracer` gives every account and slot the call touches, with their values), else two
   * (`eth_createAccessList`, then the values in a batch). A fork's read of a key being read ahead
   * joins that read. The keys join the hot set.
   *
   * Resolves with what was read as a state overlay at that head (every account's balance, nonce
   * and code unless the head before had the same code, and every slot), or undefined if any of it
   * could not be read. Never rejects.
   */
  function readAheadFor(
    tx: CallShape,
    next?: NextBlock,
    options: ReadAheadOptions = {},
  ): Promise<StateOverlay | undefined> {
    return urgently(() => readStateFor(tx, next, options));
  }

  async function readStateFor(
    tx: CallShape,
    next: NextBlock | undefined,
    options: ReadAheadOptions,
  ): Promise<StateOverlay | undefined> {
    const n = head;
    if (n < 0n || stopped) return undefined;
    const tag = `0x${n.toString(16)}`;
    const call = callOf(tx, options.gasCap);
    // A fork a head behind loads each account it is given state for before overriding it. The
    // sender's and the recipient's (an attack's fresh contract: nothing read it there) are read at
    // the head before alongside, so those loads cost no round trip of their own.
    const behind = previous;
    const accountsBefore = [tx.from, ...(tx.to ? [tx.to] : [])].flatMap((address) =>
      ["eth_getBalance", "eth_getTransactionCount", "eth_getCode"].flatMap(
        (method): [string, { method: string; args: unknown[] }][] => {
          const k = stateKey(method, [address, `0x${(n - 1n).toString(16)}`]);
          return k && !behind.has(k.key) ? [[k.key, { method, args: k.args }]] : [];
        },
      ),
    );
    if (n > 0n && accountsBefore.length > 0) void readAhead(n - 1n, behind, accountsBefore);
    const inBlock = next?.number === n + 1n ? next : undefined;
    // The call tree, traced by the node alongside (same state, same block): the simulation then
    // need not trace it on a fork. Only in the block the caller simulates in.
    const tree =
      traces && options.callTree && inBlock ? callTreeOf(call, tag, inBlock) : Promise.resolve(undefined);
    const pre = traces ? await prestateOf(call, tag, inBlock) : undefined;
    let listed: { address?: unknown; storageKeys?: unknown }[] = [];
    if (!pre) {
      stats.accessLists++;
      try {
        const a = await upstream("eth_createAccessList", [call, tag]);
        const list = (a.result as { accessList?: unknown } | undefined)?.accessList;
        if (a.error !== undefined || !Array.isArray(list)) {
          stats.accessListFailures++;
          return undefined;
        }
        listed = list;
      } catch {
        stats.accessListFailures++;
        return undefined;
      }
    }
    if (n !== head || stopped) return undefined; // a newer head: its read-ahead has what it has
    const current = values;
    const items: [string, { method: string; args: unknown[] }][] = [];
    const parts: OverlayPart[] = [];
    /** Adds a value to the overlay: known (from the prestate), or to read ahead. */
    const add = (method: string, args: string[], field: OverlayPart["field"], known?: string) => {
      const k = stateKey(method, [...args, tag]);
      if (!k) return;
      touch(k.key, method, k.args, n);
      // A value the prestate gave is the overlay's at once: the same key may be in a wave of the
      // head's read ahead not answered yet (far from the node, 150 ms after a head for all of them).
      const answer = known === undefined ? undefined : Promise.resolve<Answer>({ result: known });
      if (!current.has(k.key)) {
        if (!answer) items.push([k.key, { method, args: k.args }]);
        else current.set(k.key, noteCode(k.key, answer, n));
      }
      parts.push({ address: k.args[0] as string, field, key: k.key, ...(answer ? { answer } : {}) });
    };
    const slotKey = (slot: string) => `0x${BigInt(slot).toString(16).padStart(64, "0")}` as Hex;
    if (pre) {
      for (const [address, a] of pre) {
        add("eth_getBalance", [address], "balance", a.balance);
        add("eth_getTransactionCount", [address], "nonce", a.nonce);
        add("eth_getCode", [address], "code", a.code);
        for (const [slot, value] of a.storage) add("eth_getStorageAt", [address, slot], slotKey(slot), value);
      }
    } else {
      const accounts = new Set([tx.from, ...(tx.to ? [tx.to] : [])].map((x) => x.toLowerCase()));
      for (const entry of listed) {
        if (typeof entry.address !== "string") continue;
        accounts.add(entry.address.toLowerCase());
        if (!Array.isArray(entry.storageKeys)) continue;
        for (const slot of entry.storageKeys)
          if (typeof slot === "string" && isBlockNumber(slot))
            add("eth_getStorageAt", [entry.address, slot], slotKey(slot));
      }
      for (const address of accounts) {
        add("eth_getBalance", [address], "balance");
        add("eth_getTransactionCount", [address], "nonce");
        add("eth_getCode", [address], "code");
      }
    }
    await readAhead(n, current, items);
    const [overlay, callTree] = await Promise.all([overlayOf(n, current, parts), tree]);
    return overlay && callTree !== undefined ? { ...overlay, callTree } : overlay;
  }

  /** One value of an overlay: its account, its field (or slot) and its key in the answers. */
  type OverlayPart = {
    address: string;
    field: "balance" | "nonce" | "code" | Hex;
    key: string;
    /** Its value, when known already (from the prestate trace). */
    answer?: Promise<Answer>;
  };

  /**
   * The overlay at head `n` made of `parts`, from `current` (the answers at `n`); undefined if
   * any of them failed. Code the head before had already is left out (see `readAheadFor`).
   */
  async function overlayOf(
    n: bigint,
    current: Map<string, Promise<Answer>>,
    parts: OverlayPart[],
  ): Promise<StateOverlay | undefined> {
    const answers = await Promise.all(
      parts.map(
        (p) =>
          p.answer ??
          current.get(p.key) ??
          derived(current, p.key.slice(0, p.key.indexOf(":")), p.address) ??
          Promise.resolve<Answer>({ error: "not read" }),
      ),
    ).catch(() => undefined);
    if (!answers) return undefined;
    // Code the head before had already (most of it: contracts seldom change) is left out: a fork
    // a head behind has it, and a contract's code can be tens of kilobytes to send every call.
    const before = n === head ? previous : new Map<string, Promise<Answer>>();
    const codeBefore = await Promise.all(
      parts.map((p) =>
        p.field === "code"
          ? (before.get(p.key) ?? derived(before, "eth_getCode", p.address, n - 1n))
          : undefined,
      ),
    ).catch(() => []);
    const state: StateOverlay["state"] = {};
    for (const [i, p] of parts.entries()) {
      const a = answers[i];
      if (!a || a.error !== undefined || typeof a.result !== "string") return undefined;
      const address = getAddress(p.address);
      const account = state[address] ?? {};
      state[address] = account;
      const value = a.result as Hex;
      // (Left out only if there is code: an overlay without code for an account says it has some.)
      const unchanged =
        value !== "0x" && codeBefore[i]?.error === undefined && codeBefore[i]?.result === value;
      if (p.field === "code" && unchanged) continue;
      if (p.field === "balance" || p.field === "nonce" || p.field === "code") account[p.field] = value;
      else {
        const slots = account.stateDiff ?? {};
        slots[p.field] = value;
        account.stateDiff = slots;
      }
    }
    return { head: n, state };
  }

  /** Whether any state of `address` is in the hot set (read at one of the last heads). */
  function isHot(address: string): boolean {
    return hotByAddress.has(address.toLowerCase());
  }

  function codeIsNew(address: string): boolean {
    const at = emptyCodeAt.get(address.toLowerCase());
    return at !== undefined && at + NEW_CODE_HEADS >= head;
  }

  function touch(key: string, method: string, args: unknown[], n: bigint) {
    const h = hot.get(key);
    if (h) {
      h.lastHead = n;
      return;
    }
    if (hot.size >= maxHot) forget(hot.keys().next().value as string);
    hot.set(key, { method, args, lastHead: n });
    const address = args[0] as string;
    const keys = hotByAddress.get(address) ?? new Set<string>();
    hotByAddress.set(address, keys);
    keys.add(key);
  }

  /**
   * An account read answered from the other form already known at this head: Anvil asks for an
   * account either as eth_getAccountInfo or as balance, nonce and code, and the two must not cost
   * two upstream reads.
   */
  function derived(current: Map<string, Promise<Answer>>, method: string, address: string, n = head) {
    const ok = (a: Answer | undefined) => a !== undefined && a.error === undefined && a.result !== null;
    if (method === "eth_getAccountInfo") {
      const parts = ["eth_getBalance", "eth_getTransactionCount", "eth_getCode"].map((m) =>
        current.get(`${m}:${address}`),
      );
      if (parts.some((p) => p === undefined)) return undefined;
      return Promise.all(parts).then(async ([balance, nonce, code]): Promise<Answer> => {
        if (ok(balance) && ok(nonce) && ok(code))
          return { result: { balance: balance?.result, nonce: nonce?.result, code: code?.result } };
        return upstream(method, [address, `0x${n.toString(16)}`]);
      });
    }
    const field = ACCOUNT_FIELDS[method];
    const info = field ? current.get(`eth_getAccountInfo:${address}`) : undefined;
    if (!field || !info) return undefined;
    return info.then(async (a): Promise<Answer> => {
      const value = ok(a) ? (a.result as Record<string, unknown>)[field] : undefined;
      if (typeof value === "string") return { result: value };
      return upstream(method, [address, `0x${n.toString(16)}`]);
    });
  }

  async function answer(req: JsonRpcRequest): Promise<Answer> {
    const method = typeof req.method === "string" ? req.method : "";
    const params = Array.isArray(req.params) ? req.params : [];
    if (
      method === "eth_chainId" ||
      (method === "eth_getBlockByNumber" && isBlockNumber(params[0])) ||
      method === "eth_getBlockByHash"
    ) {
      return fixedAnswer(method, params);
    }
    const k = stateKey(method, params);
    // A fork serving a head behind: what was read there is answered from memory. Not counted as
    // use (touch): that head is gone.
    if (k && isBlockNumber(k.block) && BigInt(k.block) === head - 1n)
      return answerAt(previous, head - 1n, k, method, params, "passThrough");
    if (!k || !isBlockNumber(k.block) || BigInt(k.block) !== head) {
      stats.passThrough++;
      if (k && isBlockNumber(k.block) && BigInt(k.block) > head)
        touch(k.key, method, k.args, BigInt(k.block));
      return upstream(method, params);
    }
    touch(k.key, method, k.args, head);
    return answerAt(values, head, k, method, params, "misses");
  }

  /**
   * A state read answered from `at` (the answers at head `n`), else read upstream and remembered
   * there (in flight: concurrent readers share it); the read counts as a miss of `kind`.
   */
  function answerAt(
    at: Map<string, Promise<Answer>>,
    n: bigint,
    k: { key: string; args: unknown[] },
    method: string,
    params: unknown[],
    kind: "misses" | "passThrough",
  ): Promise<Answer> {
    const known = at.get(k.key) ?? derived(at, method, k.args[0] as string, n);
    if (known) {
      stats.hits++;
      return known;
    }
    stats[kind]++;
    const p = noteCode(k.key, upstream(method, params), n);
    at.set(
      k.key,
      p.then(
        (a) => a,
        () => upstream(method, params),
      ),
    );
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
    readAheadFor,
    callTreeFor,
    isHot,
    nodeRttMs: quickestRtt,
    codeIsNew,
    keepWarm(addresses) {
      for (const address of addresses) {
        const keys = hotByAddress.get(address.toLowerCase());
        if (!keys) continue;
        for (const key of keys) {
          const h = hot.get(key);
          if (!h) continue;
          if (h.lastHead < head) h.lastHead = head;
        }
      }
    },
    stats: () => ({ ...stats, hotKeys: hot.size, head: head.toString() }),
    async stop() {
      stopped = true;
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
