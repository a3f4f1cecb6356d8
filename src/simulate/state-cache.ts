import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";

/**
 * A state cache between the forks and the upstream node, warm at every new head.
 *
 * Forks fetch state lazily (balance, nonce, code, storage slot by slot) as the EVM asks for it,
 * and a fork reset to a new head starts empty: each simulation after a head paid one upstream
 * round trip per account and slot, one after the other (with a 30 ms remote node, over a second
 * for an attack). Yet consecutive blocks' simulations read mostly the same state: the protected
 * contracts, their oracles and pools, tokens, routers. This proxy remembers which state the forks
 * read recently (the hot set) and, the moment a new head is announced, reads all of it at that
 * head in JSON-RPC batches (one or two round trips in all); forks that reset to the head then find
 * it in memory, and concurrent forks asking for the same value share one upstream request.
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
  /** Reads at another block, or of other methods: passed through. */
  passThrough: number;
  /** Blocks and chain id fetched (once each: they never change). */
  blockFetches: number;
  /** Values read ahead at new heads. */
  prefetched: number;
  prefetchFailures: number;
  /** State dumps built for forks to load at a head, and the accounts they held in all. */
  dumps: number;
  dumpAccounts: number;
  /** Their size as sent (hex characters of the gzip), as JSON, and the time spent building them, in all. */
  dumpBytes: number;
  dumpJsonBytes: number;
  dumpMs: number;
  /** Access lists asked of the upstream node for cold transactions (`readAheadFor`), and failures. */
  accessLists: number;
  accessListFailures: number;
  hotKeys: number;
  head: string;
};

export type StateCache = {
  /** The URL forks use as their upstream. */
  readonly url: string;
  /** A new head: read the hot set at it (resolves when the reads are answered). */
  advance(head: bigint): Promise<void>;
  /**
   * What is known at `head` once its read-ahead is answered, as an Anvil state dump
   * (`anvil_loadState`): every account whose balance, nonce and code are known, with its known
   * storage slots. A fork reset to `head` that loads it needs no round trip for any of it.
   * Undefined when `head` is no longer the current head, or nothing is known.
   */
  stateAt(head: bigint): Promise<Hex | undefined>;
  /**
   * Keeps the hot state of these accounts hot: they were used at the current head. Forks that
   * loaded a dump no longer fetch what it held, so their fetches alone would let the state a
   * simulation keeps using leave the hot set; the simulations' call trees say what they used.
   * What `urgent` work used (a simulation the prefilter ranked dangerous, the pause's own path)
   * stays in the state forks load for as long as it is hot, not only for DUMP_HEADS: a lender
   * that only attacks and rare large operations call, or the Guardian, would otherwise cost the
   * next attack or proof one round trip through this cache per value.
   */
  keepWarm(addresses: Iterable<string>, options?: { urgent?: boolean }): void;
  /** Reads ahead what a transaction will touch, from the node's access list for it (see below). */
  readAheadFor(tx: TxShape): Promise<void>;
  /** Whether any state of `address` was read at one of the last heads. */
  isHot(address: string): boolean;
  stats(): StateCacheStats;
  stop(): Promise<void>;
};

type Hex = `0x${string}`;
/** What `readAheadFor` needs of a transaction. */
type TxShape = { from: string; to: string | null; input: string; value: bigint; gas: bigint };
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
/** A key not read for this many heads leaves the hot set. */
const HOT_HEADS = 32n;
/**
 * A fork loads, before it serves, only the state read at one of this many last heads. The load is
 * paid at every reset: with everything read ahead (32 heads of a 200 tx/s load, 1.5 MB) it took
 * 95 ms on average, and forks were away 229 ms per head. What is left out is still read ahead,
 * one local round trip away.
 */
const DUMP_HEADS = 4n;
/**
 * Reads per batch. Small batches sent together: a fork waiting for one value waits for its batch
 * only, and the node answers batches in parallel (one batch of 2,000 reads held every read after a
 * head for ~100 ms on a local node).
 */
const PREFETCH_BATCH = 50;

const gzip = promisify(zlib.gzip);

const isBlockNumber = (x: unknown): x is string => typeof x === "string" && /^0x[0-9a-fA-F]+$/.test(x);

export async function startStateCache(options: {
  upstreamUrl: string;
  logger: Logger;
  /** Most keys read ahead at each head. */
  maxHot?: number;
  timeoutMs?: number;
}): Promise<StateCache> {
  const { upstreamUrl, logger } = options;
  const maxHot = options.maxHot ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  /** Answers at the current head, by key (promises: shared while in flight). */
  let values = new Map<string, Promise<Answer>>();
  /** Recently read keys: how to read them again, and the last head they were read at. */
  const hot = new Map<string, { method: string; args: unknown[]; lastHead: bigint; urgentHead?: bigint }>();
  /** Hot keys by account (lower-case address). */
  const hotByAddress = new Map<string, Set<string>>();
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
    dumps: 0,
    dumpAccounts: 0,
    dumpBytes: 0,
    dumpJsonBytes: 0,
    dumpMs: 0,
    accessLists: 0,
    accessListFailures: 0,
  };
  let head = -1n;
  /** The read-ahead of the current head, and its state dump once built (shared by forks). */
  let prefetched: Promise<void> = Promise.resolve();
  let dump: { head: bigint; state: Promise<Hex | undefined> } | undefined;
  let stopped = false;
  let warned = false;
  let nextId = 1;

  async function post(body: unknown): Promise<unknown> {
    const res = await fetch(upstreamUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.json();
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

  /** Reads every hot key at head `n`, all batches sent at once; their answers fill `current`. */
  function prefetch(n: bigint, current: Map<string, Promise<Answer>>): Promise<void> {
    // Most recently read first: what the last head's simulations needed is asked for first.
    const items = [...hot.entries()]
      .filter(([key]) => !current.has(key))
      .sort((a, b) => (a[1].lastHead > b[1].lastHead ? -1 : a[1].lastHead < b[1].lastHead ? 1 : 0));
    return readAhead(n, current, items);
  }

  /** Reads `items` at head `n` in batches sent at once; their answers (promises) fill `current`. */
  async function readAhead(
    n: bigint,
    current: Map<string, Promise<Answer>>,
    items: [string, { method: string; args: unknown[] }][],
  ): Promise<void> {
    const tag = `0x${n.toString(16)}`;
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < items.length; i += PREFETCH_BATCH) {
      const chunk = items.slice(i, i + PREFETCH_BATCH);
      const ids = chunk.map(() => nextId++);
      const request = post(
        chunk.map(([, h], j) => ({ jsonrpc: "2.0", id: ids[j], method: h.method, params: [...h.args, tag] })),
      ).then((body) => {
        if (!Array.isArray(body)) throw new Error("the node does not answer JSON-RPC batches");
        return new Map((body as (Answer & { id: number })[]).map((b) => [b.id, toAnswer(b)]));
      });
      chunk.forEach(([key, h], j) => {
        const again = () => upstream(h.method, [...h.args, tag]);
        // A failed read ahead is not an answer: the read goes upstream on its own instead.
        current.set(
          key,
          request.then(
            (byId) => {
              const a = byId.get(ids[j] as number);
              return a && a.error === undefined ? a : again();
            },
            () => again(),
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
    head = n;
    values = new Map();
    for (const [key, h] of hot) if (h.lastHead + HOT_HEADS < n) forget(key);
    // A fork reset to this head reads its block first.
    const block = fixedAnswer("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    prefetched = Promise.all([prefetch(n, values), block.catch(() => undefined)]).then(() => undefined);
    return prefetched;
  }

  async function buildDump(n: bigint): Promise<Hex | undefined> {
    await prefetched;
    const started = performance.now();
    const current = values;
    if (n !== head) return undefined;
    type Account = { nonce?: number; balance?: string; code?: string; storage: Record<string, string> };
    const accounts = new Map<string, Account>();
    const account = (a: string) => {
      const known = accounts.get(a);
      if (known) return known;
      const fresh: Account = { storage: {} };
      accounts.set(a, fresh);
      return fresh;
    };
    for (const [key, pending] of current) {
      const h = hot.get(key);
      if (h && h.lastHead + DUMP_HEADS < n && (h.urgentHead ?? -1n) + HOT_HEADS < n) continue;
      const answer = await pending.catch(() => undefined);
      if (!answer || answer.error !== undefined || answer.result === null) continue;
      const [method, address, slot] = key.split(":") as [string, string, string | undefined];
      const r = answer.result;
      const a = account(address);
      if (method === "eth_getStorageAt" && slot && typeof r === "string") a.storage[slot] = r;
      else if (method === "eth_getBalance" && typeof r === "string") a.balance = r;
      else if (method === "eth_getTransactionCount" && typeof r === "string") a.nonce = Number(BigInt(r));
      else if (method === "eth_getCode" && typeof r === "string") a.code = r;
      else if (method === "eth_getAccountInfo" && typeof r === "object") {
        const info = r as { balance?: unknown; nonce?: unknown; code?: unknown };
        if (typeof info.balance === "string") a.balance = info.balance;
        if (typeof info.nonce === "string") a.nonce = Number(BigInt(info.nonce));
        if (typeof info.code === "string") a.code = info.code;
      }
    }
    // An account goes in only whole: a made-up balance, nonce or code would be wrong state. Only
    // contracts: they carry the code and storage that cost many reads, while a fork loading an
    // account reads it once anyway (Anvil does), so an account without code gains nothing.
    const complete: Record<string, Required<Account>> = {};
    for (const [address, a] of accounts)
      if (a.balance !== undefined && a.nonce !== undefined && a.code !== undefined && a.code !== "0x")
        complete[address] = a as Required<Account>;
    if (Object.keys(complete).length === 0 || n !== head) return undefined;
    const json = JSON.stringify({
      block: null,
      accounts: complete,
      best_block_number: null,
      blocks: [],
      transactions: [],
    });
    // Gzipped (Anvil inflates a dump that is): every fork is sent it at every head, and as hex
    // JSON it was ~1 MB at 200 tx/s, mostly contract code. Compressed off the event loop.
    const hex: Hex = `0x${(await gzip(Buffer.from(json, "utf8"), { level: 1 })).toString("hex")}`;
    if (n !== head) return undefined;
    stats.dumps++;
    stats.dumpAccounts += Object.keys(complete).length;
    stats.dumpBytes += hex.length;
    stats.dumpJsonBytes += json.length;
    stats.dumpMs += performance.now() - started;
    return hex;
  }

  /**
   * Reads ahead at the current head the state `tx` will touch, as the upstream node's
   * `eth_createAccessList` lists it. A transaction from a contract nobody used before (an attack's,
   * typically) finds nothing in the hot set, and its fork fetches each account and slot one round
   * trip after the other: with a 30 ms remote node, ~450 ms for the benchmark's first attack. Here
   * it costs two round trips, and the simulation need not wait for them: a fork's read of a key
   * being read ahead joins that read. The keys join the hot set. Never rejects.
   */
  async function readAheadFor(tx: TxShape): Promise<void> {
    const n = head;
    if (n < 0n || stopped) return;
    stats.accessLists++;
    let listed: { address?: unknown; storageKeys?: unknown }[];
    try {
      const a = await upstream("eth_createAccessList", [
        {
          from: tx.from,
          ...(tx.to ? { to: tx.to } : {}),
          data: tx.input,
          value: `0x${tx.value.toString(16)}`,
          gas: `0x${tx.gas.toString(16)}`,
        },
        `0x${n.toString(16)}`,
      ]);
      const list = (a.result as { accessList?: unknown } | undefined)?.accessList;
      if (a.error !== undefined || !Array.isArray(list)) {
        stats.accessListFailures++;
        return;
      }
      listed = list;
    } catch {
      stats.accessListFailures++;
      return;
    }
    if (n !== head || stopped) return; // a newer head: its read-ahead has what it has
    const current = values;
    const items: [string, { method: string; args: unknown[] }][] = [];
    const add = (method: string, args: string[]) => {
      const k = stateKey(method, [...args, `0x${n.toString(16)}`]);
      if (!k) return;
      touch(k.key, method, k.args, n);
      if (!current.has(k.key)) items.push([k.key, { method, args: k.args }]);
    };
    const accounts = new Set([tx.from, ...(tx.to ? [tx.to] : [])].map((x) => x.toLowerCase()));
    for (const entry of listed) {
      if (typeof entry.address !== "string") continue;
      accounts.add(entry.address.toLowerCase());
      if (Array.isArray(entry.storageKeys))
        for (const slot of entry.storageKeys)
          if (typeof slot === "string") add("eth_getStorageAt", [entry.address, slot]);
    }
    for (const address of accounts)
      for (const method of ["eth_getBalance", "eth_getTransactionCount", "eth_getCode"])
        add(method, [address]);
    await readAhead(n, current, items);
  }

  /** Whether any state of `address` is in the hot set (read at one of the last heads). */
  function isHot(address: string): boolean {
    return hotByAddress.has(address.toLowerCase());
  }

  function stateAt(n: bigint): Promise<Hex | undefined> {
    if (n !== head || stopped) return Promise.resolve(undefined);
    if (dump?.head !== n) dump = { head: n, state: buildDump(n).catch(() => undefined) };
    return dump.state;
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
   * two upstream reads (a fork loading a state dump asks for every account it loads).
   */
  function derived(current: Map<string, Promise<Answer>>, method: string, address: string) {
    const ok = (a: Answer | undefined) => a !== undefined && a.error === undefined && a.result !== null;
    if (method === "eth_getAccountInfo") {
      const parts = ["eth_getBalance", "eth_getTransactionCount", "eth_getCode"].map((m) =>
        current.get(`${m}:${address}`),
      );
      if (parts.some((p) => p === undefined)) return undefined;
      return Promise.all(parts).then(async ([balance, nonce, code]): Promise<Answer> => {
        if (ok(balance) && ok(nonce) && ok(code))
          return { result: { balance: balance?.result, nonce: nonce?.result, code: code?.result } };
        return upstream(method, [address, `0x${head.toString(16)}`]);
      });
    }
    const field = ACCOUNT_FIELDS[method];
    const info = field ? current.get(`eth_getAccountInfo:${address}`) : undefined;
    if (!field || !info) return undefined;
    return info.then(async (a): Promise<Answer> => {
      const value = ok(a) ? (a.result as Record<string, unknown>)[field] : undefined;
      if (typeof value === "string") return { result: value };
      return upstream(method, [address, `0x${head.toString(16)}`]);
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
    if (!k || !isBlockNumber(k.block) || BigInt(k.block) !== head) {
      stats.passThrough++;
      if (k && isBlockNumber(k.block) && BigInt(k.block) > head)
        touch(k.key, method, k.args, BigInt(k.block));
      return upstream(method, params);
    }
    touch(k.key, method, k.args, head);
    const current = values;
    const known = current.get(k.key) ?? derived(current, method, k.args[0] as string);
    if (known) {
      stats.hits++;
      return known;
    }
    stats.misses++;
    const p = upstream(method, params);
    current.set(
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
    stateAt,
    readAheadFor,
    isHot,
    keepWarm(addresses, options = {}) {
      for (const address of addresses) {
        const keys = hotByAddress.get(address.toLowerCase());
        if (!keys) continue;
        for (const key of keys) {
          const h = hot.get(key);
          if (!h) continue;
          if (h.lastHead < head) h.lastHead = head;
          if (options.urgent) h.urgentHead = head;
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
