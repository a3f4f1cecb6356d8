import http from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../src/internal/anvil.ts";
import { silentLogger } from "../src/internal/logger.ts";
import { createRpc, type Rpc } from "../src/internal/rpc.ts";
import { normaliseFrame, type RawFrame } from "../src/simulate/simulate.ts";
import { type StateCache, startStateCache } from "../src/simulate/state-cache.ts";

// The fork state cache between a real fork and a real upstream Anvil: what a block changed must
// be read fresh after the head moves, what it did not change must come from memory.
const STORE = "0x00000000000000000000000000000000000000aa"; // stores its calldata word at slot 0
const OTHER = "0x00000000000000000000000000000000000000bb"; // receives plain transfers
const FROM = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const word = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

describe("fork state cache", () => {
  let upstream: AnvilInstance;
  let up: Rpc;
  let cache: StateCache;
  let fork: AnvilInstance;
  let f: Rpc;

  const head = async () => BigInt(await up.call<string>("eth_blockNumber"));
  const resetTo = (n: bigint) =>
    f.call("anvil_reset", [{ forking: { jsonRpcUrl: cache.url, blockNumber: Number(n) } }]);
  /** Sends and waits until mined (automine mines just after the call returns, not before). */
  const send = async (tx: Record<string, string>) => {
    const hash = await up.call<string>("eth_sendTransaction", [{ from: FROM, ...tx }]);
    for (let i = 0; i < 200; i++) {
      if (await up.call("eth_getTransactionReceipt", [hash])) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not mined: ${hash}`);
  };
  const store = (n: number) => send({ to: STORE, data: word(n) });

  beforeAll(async () => {
    upstream = await startAnvil({});
    up = createRpc(upstream.rpcUrl);
    // PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP
    await up.call("anvil_setCode", [STORE, "0x60003560005500"]);
    await store(5);
    cache = await startStateCache({ upstreamUrl: upstream.rpcUrl, logger: silentLogger() });
    await cache.advance(await head());
    fork = await startAnvil({
      forkUrl: cache.url,
      forkBlockNumber: await head(),
      noMining: true,
      accounts: 0,
    });
    f = createRpc(fork.rpcUrl);
  });
  afterAll(async () => {
    await fork?.stop();
    await cache?.stop();
    await upstream?.stop();
  });

  it("serves a reset fork's reads at the same head from memory", async () => {
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(5));
    await resetTo(await head()); // a new fork backend: its own cache is empty again
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(5));
    // From the second reset on, nothing at all goes upstream: blocks and state come from memory.
    const before = cache.stats();
    await resetTo(await head());
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(5));
    const after = cache.stats();
    expect(after.hits).toBeGreaterThan(before.hits);
    expect(after.misses).toBe(before.misses);
    expect(after.passThrough).toBe(before.passThrough);
  });

  it("reads the hot state ahead at a new head: fresh values, no waiting on the fork's reads", async () => {
    // Read as a fork would, straight at the cache (Anvil's own fetch order varies with load).
    const direct = createRpc(cache.url);
    const at = (n: bigint) => `0x${n.toString(16)}`;
    const h = await head();
    const otherBefore = BigInt(await direct.call<string>("eth_getBalance", [OTHER, at(h)]));
    await direct.call("eth_getStorageAt", [STORE, "0x0", at(h)]);
    await direct.call("eth_getTransactionCount", [FROM, at(h)]);
    await store(7);
    await send({ to: OTHER, value: "0x1234" });
    const n = await head();
    const before = cache.stats();
    await cache.advance(n);
    const ahead = cache.stats();
    expect(ahead.head).toBe(n.toString());
    expect(ahead.prefetched - before.prefetched).toBeGreaterThanOrEqual(3);
    expect(await direct.call("eth_getStorageAt", [STORE, "0x0", at(n)])).toBe(word(7));
    expect(BigInt(await direct.call<string>("eth_getBalance", [OTHER, at(n)]))).toBe(otherBefore + 0x1234n);
    expect(await direct.call("eth_getTransactionCount", [FROM, at(n)])).toBe(
      await up.call("eth_getTransactionCount", [FROM, at(n)]),
    );
    const after = cache.stats();
    expect(after.misses).toBe(ahead.misses); // all three were read ahead, at the new head
    expect(after.hits - ahead.hits).toBe(3);
    // And a fork reset to the new head sees the new state.
    await resetTo(n);
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(7));
    expect(BigInt(await f.call<string>("eth_getBalance", [OTHER, "latest"]))).toBe(otherBefore + 0x1234n);
  });

  it("never answers an older block from newer state", async () => {
    const n = await head(); // n: the transfer, n - 1: the store of 7, n - 2: the store of 5
    await resetTo(n - 2n);
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(5));
    await resetTo(n);
    expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(7));
  });

  it("resets a fork to a block full of transactions with one upstream read of its header", async () => {
    // Three transactions in one block: the node builds the whole block only if asked for it.
    await up.call("evm_setAutomine", [false]);
    for (let i = 0; i < 3; i++)
      await up.call("eth_sendTransaction", [{ from: FROM, to: OTHER, value: "0x1" }]);
    await up.call("evm_mine");
    await up.call("evm_setAutomine", [true]);
    const n = await head();
    const block = await up.call<{ hash: string; transactions: unknown[] }>("eth_getBlockByNumber", [
      `0x${n.toString(16)}`,
      false,
    ]);
    expect(block.transactions).toHaveLength(3);
    const before = cache.stats().blockFetches;
    await cache.advance(n);
    await resetTo(n);
    // One block read in all (its header and hashes), whatever the fork asked for.
    expect(cache.stats().blockFetches).toBe(before + 1);
    const forked = await f.call<{ hash: string }>("eth_getBlockByNumber", ["latest", false]);
    expect(forked.hash).toBe(block.hash);
    expect(BigInt(await f.call<string>("eth_getBalance", [OTHER, "latest"]))).toBe(
      BigInt(await up.call<string>("eth_getBalance", [OTHER, "latest"])),
    );
    // A transaction of that block is still found, by hash, upstream.
    const [first] = block.transactions as string[];
    const tx = await f.call<{ hash: string } | null>("eth_getTransactionByHash", [first]);
    expect(tx?.hash).toBe(first);
  });
  it("forgets state nobody read for several heads", async () => {
    await up.call("anvil_setCode", [OTHER, "0x60003560005500"]);
    await send({ to: OTHER, data: word(1) });
    await cache.advance(await head());
    await resetTo(await head());
    await f.call("eth_getStorageAt", [OTHER, "0x0", "latest"]);
    const hot = cache.stats().hotKeys;
    // Heads pass and only STORE's slot is read: OTHER's entries leave the hot set.
    for (let i = 0; i < 34; i++) {
      await up.call("anvil_mine", ["0x1"]);
      await cache.advance(await head());
      await resetTo(await head());
      expect(await f.call("eth_getStorageAt", [STORE, "0x0", "latest"])).toBe(word(7));
    }
    expect(cache.stats().hotKeys).toBeLessThan(hot);
  });

  it("keeps what simulations use hot, though the forks no longer fetch it", async () => {
    await f.call("eth_call", [{ from: FROM, to: STORE, data: word(1) }, "latest"]);
    // 34 heads in which simulations run STORE's code, and no fork fetches any of it: still hot.
    for (let i = 0; i < 34; i++) {
      await up.call("anvil_mine", ["0x1"]);
      await cache.advance(await head());
      cache.keepWarm([STORE]);
    }
    expect(cache.isHot(STORE)).toBe(true);
    // Then nothing uses it: after 34 heads it leaves the hot set.
    for (let i = 0; i < 34; i++) {
      await up.call("anvil_mine", ["0x1"]);
      await cache.advance(await head());
    }
    expect(cache.isHot(STORE)).toBe(false);
  });

  it("tells a contract deployed lately from one that was there before", async () => {
    const FRESH = "0x00000000000000000000000000000000000000dd";
    const direct = createRpc(cache.url);
    const at = (n: bigint) => `0x${n.toString(16)}`;
    // A fork reads the address before anything is deployed there: no code.
    await direct.call("eth_getCode", [FRESH, at(await head())]);
    expect(cache.codeIsNew(FRESH)).toBe(true);
    expect(cache.codeIsNew(STORE)).toBe(false);
    await direct.call("eth_getCode", [STORE, at(await head())]);
    expect(cache.codeIsNew(STORE)).toBe(false);
    // Deployed in the next block: a fork a head behind would find nothing there.
    await up.call("anvil_setCode", [FRESH, "0x60003560005500"]);
    await up.call("anvil_mine", ["0x1"]);
    await cache.advance(await head());
    expect(await direct.call("eth_getCode", [FRESH, at(await head())])).toBe("0x60003560005500");
    expect(cache.codeIsNew(FRESH)).toBe(true);
    // Still new for a while (nothing read it yet, and an attack follows its deployment soon);
    // sixteen heads after its address was last read empty, it is not.
    for (let i = 0; i < 15; i++) {
      await up.call("anvil_mine", ["0x1"]);
      await cache.advance(await head());
    }
    expect(cache.codeIsNew(FRESH)).toBe(true);
    await up.call("anvil_mine", ["0x1"]);
    await cache.advance(await head());
    expect(cache.codeIsNew(FRESH)).toBe(false);
  });

  it("answers an account in either form from the other, without a second upstream read", async () => {
    const direct = createRpc(cache.url);
    await up.call("anvil_mine", ["0x1"]);
    const n = await head();
    await cache.advance(n);
    const at = `0x${n.toString(16)}`;
    const before = cache.stats();
    const [balance, nonce, code] = await Promise.all([
      direct.call<string>("eth_getBalance", [STORE, at]),
      direct.call<string>("eth_getTransactionCount", [STORE, at]),
      direct.call<string>("eth_getCode", [STORE, at]),
    ]);
    const afterTriple = cache.stats();
    const info = await direct.call<{ balance: string; nonce: string; code: string }>("eth_getAccountInfo", [
      STORE,
      at,
    ]);
    expect(info).toEqual({ balance, nonce, code });
    expect(cache.stats().misses).toBe(afterTriple.misses); // derived, not fetched
    expect(afterTriple.misses - before.misses).toBeLessThanOrEqual(3);
    // And the other way round, for an account first read whole.
    const other = await direct.call<{ balance: string; nonce: string }>("eth_getAccountInfo", [OTHER, at]);
    const misses = cache.stats().misses;
    expect(await direct.call("eth_getBalance", [OTHER, at])).toBe(other.balance);
    expect(await direct.call("eth_getTransactionCount", [OTHER, at])).toBe(other.nonce);
    expect(cache.stats().misses).toBe(misses);
  });

  /**
   * Reads ahead, through `c`, what a call to a contract no simulation has read will touch, and
   * checks the overlay it returns and that a fork's reads of it then come from memory. The
   * contract returns its slot `slot` (PUSH1 slot SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN).
   */
  const readsAheadCold = async (c: StateCache, reader: string, slot: number) => {
    const code = `0x60${slot.toString(16).padStart(2, "0")}5460005260206000f3`;
    await up.call("anvil_setCode", [reader, code]);
    await up.call("anvil_setStorageAt", [reader, `0x${slot.toString(16)}`, word(42)]);
    await store(slot); // a block after the changes
    const h = await head();
    await c.advance(h);
    expect(c.isHot(reader)).toBe(false);
    const before = c.stats();
    const overlay = await c.readAheadFor({ from: FROM, to: reader, input: "0x", value: 0n, gas: 100_000n });
    expect(c.isHot(reader)).toBe(true);
    // What was read, as a state overlay at that head: the contract with its slot, the sender.
    // Its code is left out: the head before had the same (it was set before this block).
    expect(overlay?.head).toBe(h);
    expect(overlay?.state[getAddress(reader)]).toEqual({
      balance: "0x0",
      nonce: "0x0",
      stateDiff: { [word(slot)]: word(42) },
    });
    expect(overlay?.state[getAddress(FROM)]?.nonce).toMatch(/^0x[0-9a-f]+$/);

    // Read as a fork would: the slot and the account come from memory, not upstream.
    const direct = createRpc(c.url);
    const at = `0x${h.toString(16)}`;
    const mid = c.stats();
    expect(await direct.call("eth_getStorageAt", [reader, `0x${slot.toString(16)}`, at])).toBe(word(42));
    expect(await direct.call("eth_getCode", [reader, at])).toBe(code);
    expect(await direct.call("eth_getTransactionCount", [FROM, at])).toMatch(/^0x/);
    const after = c.stats();
    expect(after.misses).toBe(mid.misses);
    expect(after.hits).toBe(mid.hits + 3);
    // The sender's and the recipient's accounts were read at the head before too, for a fork
    // still there that is given the overlay: it loads them before overriding them.
    const prev = `0x${(h - 1n).toString(16)}`;
    expect(await direct.call("eth_getCode", [reader, prev])).toBe(code);
    expect(await direct.call("eth_getBalance", [FROM, prev])).toMatch(/^0x/);
    expect(c.stats()).toMatchObject({ passThrough: after.passThrough, hits: after.hits + 2 });
    return before;
  };

  it("reads ahead what a cold transaction will touch, values and all, from the node's prestate trace", async () => {
    const before = await readsAheadCold(cache, "0x00000000000000000000000000000000000000cc", 7);
    expect(cache.stats()).toMatchObject({ prestates: before.prestates + 1, accessLists: before.accessLists });

    // A call the node cannot run costs nothing but the counts (the access list is tried next).
    const bad = {
      from: FROM,
      to: "0x00000000000000000000000000000000000000cc",
      input: "0xzz",
      value: 0n,
      gas: 1n,
    };
    expect(await cache.readAheadFor(bad)).toBeUndefined();
    expect(cache.stats()).toMatchObject({
      prestateFailures: before.prestateFailures + 1,
      accessListFailures: before.accessListFailures + 1,
    });
  });

  it("reads ahead in the block the transaction is expected in", async () => {
    // TIMESTAMP SLOAD: a call whose path depends on the time reads the slot named by it. Read
    // ahead in the next block's context, it reads the slot it will read there.
    const CLOCK = "0x00000000000000000000000000000000000000cf";
    const at = 2_000_000_000;
    await up.call("anvil_setCode", [CLOCK, "0x425460005260206000f3"]);
    await up.call("anvil_setStorageAt", [CLOCK, `0x${at.toString(16)}`, word(42)]);
    await store(10);
    const h = await head();
    await cache.advance(h);
    const tx = { from: FROM, to: CLOCK, input: "0x", value: 0n, gas: 100_000n };
    const next = { number: h + 1n, timestamp: BigInt(at) };
    const overlay = await cache.readAheadFor(tx, next);
    expect(overlay?.state[getAddress(CLOCK)]?.stateDiff).toEqual({ [word(at)]: word(42) });
    expect(overlay?.callTree).toBeUndefined(); // not asked for

    // Asked for, the node's call tree comes with it, traced in that block: the call returned 42.
    const trees = cache.stats().callTrees;
    const traced = await cache.readAheadFor(tx, next, { callTree: true });
    expect(traced?.state).toEqual(overlay?.state);
    const root = normaliseFrame(traced?.callTree as RawFrame);
    expect(root).toMatchObject({ to: getAddress(CLOCK), from: getAddress(FROM), output: word(42) });
    expect(cache.stats().callTrees).toBe(trees + 1);
    // Not for another block than the one after the head: the simulation would run elsewhere.
    const elsewhere = await cache.readAheadFor(
      tx,
      { number: h + 2n, timestamp: BigInt(at) },
      { callTree: true },
    );
    expect(elsewhere?.callTree).toBeUndefined();
    expect(cache.stats().callTrees).toBe(trees + 1);
    // The tree alone (for a call screened on the node): the same, at the head it was traced at.
    const alone = await cache.callTreeFor(tx, next);
    expect(alone?.head).toBe(h);
    expect(normaliseFrame(alone?.callTree as RawFrame).output).toBe(word(42));
    expect(await cache.callTreeFor(tx, { number: h + 2n, timestamp: BigInt(at) })).toBeUndefined();
  });

  it("reads ahead from access lists where the node does not trace calls", async () => {
    // A node without the debug namespace, as many hosted ones: it says so, and is not asked again.
    const refusing = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const one = JSON.parse(body) as { id?: unknown; method?: unknown };
        res.writeHead(200, { "content-type": "application/json" });
        if (!Array.isArray(one) && one.method === "debug_traceCall") {
          res.end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: one.id,
              error: { code: -32601, message: "Method not found" },
            }),
          );
          return;
        }
        void fetch(upstream.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body })
          .then((r) => r.text())
          .then((text) => res.end(text));
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", () => resolve()));
    const { port } = refusing.address() as AddressInfo;
    const other = await startStateCache({ upstreamUrl: `http://127.0.0.1:${port}`, logger: silentLogger() });
    try {
      const before = await readsAheadCold(other, "0x00000000000000000000000000000000000000cd", 8);
      expect(other.stats()).toMatchObject({ prestates: 1, prestateFailures: 1, accessLists: 1 });
      await readsAheadCold(other, "0x00000000000000000000000000000000000000ce", 9);
      expect(other.stats()).toMatchObject({ prestates: 1, accessLists: 2 });
      expect(before.accessListFailures).toBe(0);
      // Nor is it asked for a call tree: the fork traces the call instead.
      const h = await head();
      const tx = {
        from: FROM,
        to: "0x00000000000000000000000000000000000000ce",
        input: "0x",
        value: 0n,
        gas: 100_000n,
      };
      const overlay = await other.readAheadFor(
        tx,
        { number: h + 1n, timestamp: 2_000_000_000n },
        { callTree: true },
      );
      expect(overlay?.state).toBeDefined();
      expect(overlay?.callTree).toBeUndefined();
      expect(await other.callTreeFor(tx, { number: h + 1n, timestamp: 2_000_000_000n })).toBeUndefined();
      expect(other.stats()).toMatchObject({ prestates: 1, callTrees: 0 });
    } finally {
      await other.stop();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });

  /**
   * A proxy to the upstream node: each request waits `delayMs` of its parsed body before it is
   * forwarded; batches in flight are counted (`most`) and their arrival times noted.
   */
  async function delayingProxy(delayMs: (body: unknown) => number) {
    const seen = { inFlight: 0, most: 0, batches: [] as number[] };
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks);
        const parsed: unknown = JSON.parse(body.toString());
        const isBatch = Array.isArray(parsed);
        if (isBatch) {
          seen.batches.push(performance.now());
          seen.most = Math.max(seen.most, ++seen.inFlight);
        }
        const ms = delayMs(parsed);
        if (ms > 0) await new Promise((r) => setTimeout(r, ms));
        const r = await fetch(upstream.rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const answer = Buffer.from(await r.arrayBuffer());
        if (isBatch) seen.inFlight--;
        res.writeHead(r.status, { "content-type": "application/json" }).end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      seen,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }
  /**
   * Reads the store's first `count` slots at block `h` through `c`, each on its own as a fork
   * would: they join its hot set (and its round-trip figures are those of single reads).
   */
  async function readSlots(c: StateCache, h: bigint, count: number) {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        fetch(c.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: i,
            method: "eth_getStorageAt",
            params: [STORE, word(i), `0x${h.toString(16)}`],
          }),
        }),
      ),
    );
  }

  it("reads a head's hot state ahead a few batches at a time, and holds them while a dangerous call is read", async () => {
    // A trace takes the proxy 300 ms (a dangerous call's tree, read while the state is read ahead).
    const proxy = await delayingProxy((body) =>
      !Array.isArray(body) && (body as { method?: string }).method === "debug_traceCall" ? 300 : 0,
    );
    const { seen } = proxy;
    // (Waves whatever the round trip through the proxy on a busy machine: the far case is below.)
    const waved = await startStateCache({
      upstreamUrl: proxy.url,
      logger: silentLogger(),
      nearRttMs: 1_000,
    });
    try {
      let h = await head();
      await waved.advance(h);
      // 1,000 slots read at this head join the hot set: 20 batches of 50 at the next head.
      await readSlots(waved, h, 1000);
      await store(6);
      h = await head();
      seen.batches.length = 0;
      seen.most = 0;
      const prefetched = waved.stats().prefetched;
      // The next head, and at once a dangerous call's tree read at it (held 300 ms by the proxy).
      const advanced = waved.advance(h);
      const tree = waved.callTreeFor(
        { from: FROM, to: STORE, input: word(7), value: 0n, gas: 100_000n },
        { number: h + 1n, timestamp: BigInt(Math.floor(Date.now() / 1000) + 5) },
      );
      await advanced;
      expect(waved.stats().prefetched - prefetched).toBe(1000);
      expect(seen.batches).toHaveLength(20);
      expect(seen.most).toBeLessThanOrEqual(4); // four batches at a time, not twenty
      // After the first wave, the next waited for the tree read, up to its 20 ms.
      const gap = (seen.batches[4] ?? 0) - (seen.batches[3] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(15);
      expect(await tree).toBeDefined();
      // Values read in waves are the node's at that head.
      const { result } = (await (
        await fetch(waved.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "eth_getStorageAt",
            params: [STORE, word(0), `0x${h.toString(16)}`],
          }),
        })
      ).json()) as { result: string };
      expect(BigInt(result)).toBe(6n);
    } finally {
      await waved.stop();
      await proxy.close();
    }
  });

  it("overlays a cold call's state from its prestate at once, though the head's read ahead of the same keys is not answered", async () => {
    // Far from the node, a head's read ahead takes a round trip a wave: a proxy holds each of
    // its batches (50 values, not the few accounts read at the head before) 400 ms. The prestate
    // trace (one request) passes at once.
    const proxy = await delayingProxy((body) => (Array.isArray(body) && body.length >= 20 ? 400 : 0));
    const far = await startStateCache({ upstreamUrl: proxy.url, logger: silentLogger() });
    try {
      let h = await head();
      await far.advance(h);
      // 300 of the store's slots read at this head: hot, so read ahead at the next in six
      // batches, each held 400 ms.
      await readSlots(far, h, 300);
      await store(8);
      h = await head();
      const advanced = far.advance(h);
      const started = performance.now();
      const overlay = await far.readAheadFor({
        from: FROM,
        to: STORE,
        input: word(9),
        value: 0n,
        gas: 100_000n,
      });
      expect(performance.now() - started).toBeLessThan(300); // not held behind the 400 ms batch
      expect(far.stats().prestates).toBe(1);
      expect(overlay?.state[getAddress(STORE)]?.stateDiff?.[word(0) as `0x${string}`]).toBe(word(8));
      await advanced;
    } finally {
      await far.stop();
      await proxy.close();
    }
  });

  it("sends a head's read ahead all at once when the node is far", async () => {
    // 15 ms added to every request: a wave would cost a round trip; forks wait for the last.
    const proxy = await delayingProxy(() => 15);
    const far = await startStateCache({ upstreamUrl: proxy.url, logger: silentLogger() });
    try {
      let h = await head();
      await far.advance(h);
      await readSlots(far, h, 1000);
      await store(3);
      h = await head();
      proxy.seen.most = 0;
      await far.advance(h);
      expect(far.nodeRttMs()).toBeGreaterThanOrEqual(15);
      expect(proxy.seen.most).toBeGreaterThan(4); // twenty batches of 50, not four at a time
    } finally {
      await far.stop();
      await proxy.close();
    }
  });

  it("passes other methods through and answers batches", async () => {
    const res = await fetch(cache.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: 2, method: "eth_blockNumber", params: [] },
        { jsonrpc: "2.0", id: 3, method: "no_suchMethod", params: [] },
      ]),
    });
    const out = (await res.json()) as { id: number; result?: string; error?: unknown }[];
    expect(out.map((o) => o.id)).toEqual([1, 2, 3]);
    expect(out[0]?.result).toBe("0x7a69");
    expect(BigInt(out[1]?.result ?? "0x0")).toBe(await head());
    expect(out[2]?.error).toBeDefined();
  });
});
