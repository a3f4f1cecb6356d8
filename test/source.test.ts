import { spawn } from "node:child_process";
import net from "node:net";
import { pino } from "pino";
import { type Address, type Hex, keccak256, parseGwei } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { anvilAccount } from "../src/devnet/accounts.ts";
import { type AnvilInstance, startAnvil } from "../src/internal/anvil.ts";
import { RpcError } from "../src/internal/errors.ts";
import { freePort } from "../src/internal/ports.ts";
import { createRpc, type Rpc } from "../src/internal/rpc.ts";
import { rebuildRawTransaction } from "../src/source/raw.ts";
import { createMempoolSource, type MempoolSource, type MempoolSourceOptions } from "../src/source/source.ts";
import type { Head, PendingTx } from "../src/source/types.ts";

// The mempool source against a real Anvil (no automatic mining, FIFO pool), with a TCP proxy in
// between where a test needs to cut or freeze the connection.

type LogLine = { level: number; msg: string; [field: string]: unknown };

/** A pino logger whose lines the test can read. */
function captureLogger() {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: "debug", base: null },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  return { logger, lines, messages: () => lines.map((l) => l.msg) };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A TCP proxy to `targetPort` that the test can kill (every connection dropped, port closed),
 * restart on the same port, or freeze (connections stay open but nothing flows: a dead peer).
 */
/**
 * A fake node on a WebSocket: answers the two subscriptions ("0xtxs", "0xheads"; the source makes
 * them on two sockets) and hands each socket to `subscribed` once it subscribed, with what to, and
 * a helper that formats a notification.
 */
/** A well-formed pending transaction as a node announces it. */
const VALID_TX = {
  type: "0x2",
  chainId: "0x7a69",
  nonce: "0x0",
  gas: "0x5208",
  maxFeePerGas: "0x10",
  maxPriorityFeePerGas: "0x1",
  to: anvilAccount(0).address,
  value: "0x1",
  input: "0x",
  hash: `0x${"ab".repeat(32)}`,
  from: anvilAccount(1).address,
};

async function startFakeNode(
  subscribed: (
    ws: WebSocket,
    note: (subscription: string, result: unknown) => string,
    stream: "txs" | "heads",
  ) => void,
  options: { autoPong?: boolean } = {},
) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", autoPong: options.autoPong ?? true });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("unexpected address");
  const note = (subscription: string, result: unknown) =>
    JSON.stringify({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription, result } });
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const req = JSON.parse(String(data)) as { id: number; params: unknown[] };
      const sub = req.params[0] === "newHeads" ? "0xheads" : "0xtxs";
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: req.id, result: sub }));
      subscribed(ws, note, sub === "0xheads" ? "heads" : "txs");
    });
  });
  return {
    url: `ws://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

async function startProxy(targetPort: number) {
  const port = await freePort();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let server: net.Server | undefined;

  async function listen(): Promise<void> {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, "127.0.0.1");
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        pairs.delete(pair);
      };
      for (const sock of pair) {
        sock.on("error", end);
        sock.on("close", end);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    server = s;
  }

  await listen();
  return {
    url: `ws://127.0.0.1:${port}`,
    async kill() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      const s = server;
      server = undefined;
      await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    },
    restart: listen,
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
  };
}

describe("mempool source", () => {
  let anvil: AnvilInstance;
  let rpc: Rpc;
  let chainId: number;
  const sources: MempoolSource[] = [];

  beforeAll(async () => {
    anvil = await startAnvil({ noMining: true, order: "fifo" });
    rpc = createRpc(anvil.rpcUrl);
    chainId = Number(await rpc.call<Hex>("eth_chainId"));
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await anvil?.stop();
  });

  // Each test starts from an empty pool, so a start-up catch-up only finds what that test sent.
  beforeEach(async () => {
    await rpc.call("evm_mine");
  });

  function source(overrides: Partial<MempoolSourceOptions> = {}) {
    const log = captureLogger();
    const s = createMempoolSource({
      wsUrl: anvil.wsUrl,
      httpUrl: anvil.rpcUrl,
      logger: log.logger,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      ...overrides,
    });
    sources.push(s);
    return { source: s, log };
  }

  /** Signs (does not send) a transaction from Anvil dev account `i`. */
  async function sign(
    i: number,
    tx: { to: Address | null; data?: Hex; value?: bigint; legacy?: boolean; nonce?: number },
  ): Promise<Hex> {
    const account = anvilAccount(i);
    const nonce =
      tx.nonce ?? Number(await rpc.call<Hex>("eth_getTransactionCount", [account.address, "pending"]));
    const base = {
      chainId,
      nonce,
      gas: 300_000n,
      value: tx.value ?? 0n,
      data: tx.data ?? "0x",
      ...(tx.to === null ? {} : { to: tx.to }),
    } as const;
    return tx.legacy
      ? account.signTransaction({ ...base, type: "legacy", gasPrice: parseGwei("50") })
      : account.signTransaction({
          ...base,
          type: "eip1559",
          maxFeePerGas: parseGwei("100"),
          maxPriorityFeePerGas: parseGwei("2"),
        });
  }

  const send = (raw: Hex) => rpc.call<Hex>("eth_sendRawTransaction", [raw]);
  /** next(), given up after `ms`; its timer is cleared at once (a later test counts timers). */
  const nextWithin = async (s: MempoolSource, ms: number) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      return await s.next(controller.signal);
    } finally {
      clearTimeout(timer);
    }
  };
  const SINK = anvilAccount(0).address;

  it("emits full pending transactions with their fields and seenAt, and heads after a block", async () => {
    const { source: s } = await source();
    const heads: Head[] = [];
    s.onHead((h) => heads.push(h));
    await s.start();
    expect(s.connected()).toBe(true);

    const before = performance.timeOrigin + performance.now();
    const call = await sign(1, { to: SINK, data: "0x12345678", value: 7n });
    const create = await sign(2, { to: null, data: "0x00" });
    const legacy = await sign(3, { to: SINK, value: 1n, legacy: true });
    for (const raw of [call, create, legacy]) await send(raw);

    const got = [await nextWithin(s, 3000), await nextWithin(s, 3000), await nextWithin(s, 3000)];
    const after = performance.timeOrigin + performance.now();
    const [a, b, c] = got;
    expect(a).toEqual({
      hash: keccak256(call),
      from: anvilAccount(1).address,
      to: SINK,
      nonce: expect.any(Number),
      input: "0x12345678",
      value: 7n,
      gas: 300_000n,
      gasPrice: undefined,
      maxFeePerGas: parseGwei("100"),
      maxPriorityFeePerGas: parseGwei("2"),
      type: "0x2",
      chainId,
      signature: {
        r: expect.any(String),
        s: expect.any(String),
        v: expect.any(BigInt),
        yParity: expect.any(Number),
      },
      accessList: [],
      seenAt: expect.any(Number),
    });
    // The signed bytes rebuild from what the node sent, exactly (checked against the hash), so an
    // incident record need not ask the node for them; anything altered rebuilds nothing.
    expect(got.map((tx) => tx && rebuildRawTransaction(tx))).toEqual([call, create, legacy]);
    expect(rebuildRawTransaction({ ...(a as PendingTx), nonce: (a?.nonce ?? 0) + 1 })).toBeUndefined();
    expect(a?.seenAt).toBeGreaterThanOrEqual(before);
    expect(a?.seenAt).toBeLessThanOrEqual(after);
    expect(b).toMatchObject({
      hash: keccak256(create),
      from: anvilAccount(2).address,
      to: null,
      input: "0x00",
    });
    expect(c).toMatchObject({
      hash: keccak256(legacy),
      type: "0x0",
      gasPrice: parseGwei("50"),
      maxFeePerGas: undefined,
      input: "0x",
    });

    await rpc.call("evm_mine");
    const block = await rpc.call<{ number: Hex; hash: Hex; timestamp: Hex }>("eth_getBlockByNumber", [
      "latest",
      false,
    ]);
    // The head seen at start (from the catch-up) may come first: wait for this block's.
    await waitFor("the mined block's head", () => heads.some((h) => h.number === BigInt(block.number)));
    const last = heads.at(-1);
    expect(last).toMatchObject({
      number: BigInt(block.number),
      hash: block.hash,
      timestamp: BigInt(block.timestamp),
    });
    expect(last?.baseFeePerGas).toEqual(expect.any(BigInt));
    expect(s.latestHead()).toEqual(last);
    // The pool read at the new head may still list the block's transactions (Anvil can announce
    // a head before it prunes its pool): found again, they are duplicates, never queued twice.
    const stats = s.stats();
    expect(stats).toMatchObject({ enqueued: 3, malformed: 0, evicted: 0, queued: 0 });
    expect(stats.seen - stats.duplicates).toBe(3);
  });

  it("emits a transaction once even when the node announces it again", async () => {
    const { source: s } = await source();
    await s.start();
    const raw = await sign(4, { to: SINK, data: "0xaa" });
    const hash = await send(raw);
    expect((await nextWithin(s, 3000))?.hash).toBe(hash);

    await rpc.call("anvil_dropTransaction", [hash]);
    expect(await send(raw)).toBe(hash);
    await waitFor("the duplicate", () => s.stats().duplicates === 1);
    expect(await nextWithin(s, 150)).toBeUndefined();
    expect(s.stats()).toMatchObject({ seen: 2, enqueued: 1, duplicates: 1, queued: 0 });
  });

  it("catches up at start with what was already pending", async () => {
    const hash = await send(await sign(8, { to: SINK, data: "0xbb" }));
    const { source: s, log } = await source();
    await s.start();
    expect(s.stats()).toMatchObject({ caughtUp: 1, queued: 1 });
    expect((await nextWithin(s, 1000))?.hash).toBe(hash);
    expect(log.lines.find((l) => l.msg === "Caught up from txpool_content")).toMatchObject({ count: 1 });
    expect(log.messages()).toContain("Subscribed to pending transactions");
  });

  it("bounds the queue: the lowest priority is evicted, counted and logged; the rest come out by priority", async () => {
    const { source: s, log } = await source({ queueCapacity: 3 });
    await s.start();
    const plan = [
      ["t0", { to: SINK, value: 1n }], // plain transfer: priority 0
      ["c0", { to: SINK, data: "0x01" }], // calldata: priority 1
      ["t1", { to: SINK, value: 2n }],
      ["c1", { to: SINK, data: "0x02" }], // full: evicts t0 (oldest of the lowest)
      ["t2", { to: SINK, value: 3n }], // full: evicts t1, keeps the fresher t2
    ] as const;
    const hashes: Record<string, Hex> = {};
    let nonce = Number(await rpc.call<Hex>("eth_getTransactionCount", [anvilAccount(5).address, "pending"]));
    for (const [name, tx] of plan) {
      hashes[name] = await send(await sign(5, { ...tx, nonce: nonce++ }));
      const seen = Object.keys(hashes).length;
      await waitFor(`${name} to arrive`, () => s.stats().seen === seen);
    }
    expect(s.stats()).toMatchObject({ enqueued: 5, evicted: 2, queued: 3 });
    const out = [await nextWithin(s, 500), await nextWithin(s, 500), await nextWithin(s, 500)];
    expect(out.map((t) => t?.hash)).toEqual([hashes.c0, hashes.c1, hashes.t2]);

    await s.stop(); // flushes the rate-limited eviction report
    const reports = log.lines.filter((l) => l.msg === "Evicted transactions from full queue");
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.length).toBeLessThanOrEqual(2); // one line per second at most
    expect(reports.flatMap((r) => r.hashes)).toEqual([hashes.t0, hashes.t1]);
    expect(reports.every((r) => r.level === 40)).toBe(true);
  });

  it("takes a transaction back for another screening, past deduplication, at the priority given", async () => {
    // No timed waits on next(): a later test counts the process's timers.
    const { source: s } = await source();
    await s.start();
    await send(await sign(6, { to: SINK, data: "0xcc" }));
    await waitFor("the first to arrive", () => s.stats().queued === 1);
    const first = await s.next();
    if (!first) throw new Error("no transaction");
    await send(await sign(6, { to: SINK, data: "0xdd" }));
    await waitFor("the second to arrive", () => s.stats().queued === 1);
    s.requeue(first, 99); // ahead of the ordinary one
    expect(s.stats()).toMatchObject({ enqueued: 2, requeued: 1, duplicates: 0, queued: 2 });
    expect((await s.next())?.hash).toBe(first.hash);
    expect((await s.next())?.hash).not.toBe(first.hash);
  });

  it("uses a custom priority function", async () => {
    const { source: s } = await source({ priority: (tx) => Number(tx.value) });
    await s.start();
    let nonce = Number(await rpc.call<Hex>("eth_getTransactionCount", [anvilAccount(9).address, "pending"]));
    const sent: Hex[] = [];
    for (const value of [1n, 3n, 2n]) {
      sent.push(await send(await sign(9, { to: SINK, value, nonce: nonce++ })));
    }
    await waitFor("three txs", () => s.stats().queued === 3);
    const out = [await s.next(), await s.next(), await s.next()];
    expect(out.map((t) => t?.value)).toEqual([3n, 2n, 1n]);
  });

  it("reconnects after losing the socket and catches up with what was sent meanwhile, exactly once", async () => {
    const proxy = await startProxy(anvil.port);
    const { source: s, log } = await source({ wsUrl: proxy.url });
    const heads: Head[] = [];
    s.onHead((h) => heads.push(h));
    await s.start();
    const a = await send(await sign(6, { to: SINK, data: "0x0a" }));
    expect((await nextWithin(s, 3000))?.hash).toBe(a);

    await proxy.kill();
    await waitFor("the loss to be noticed", () => !s.connected());
    await rpc.call("evm_mine"); // a block while away (includes a)
    const missedHead = await rpc.call<{ hash: Hex }>("eth_getBlockByNumber", ["latest", false]);
    let nonce = Number(await rpc.call<Hex>("eth_getTransactionCount", [anvilAccount(7).address, "pending"]));
    const b = await send(await sign(7, { to: SINK, data: "0x0b", nonce: nonce++ }));
    const c = await send(await sign(7, { to: SINK, data: "0x0c", nonce: nonce++ }));
    await new Promise((r) => setTimeout(r, 150)); // a few failed attempts
    expect(s.connected()).toBe(false);
    await proxy.restart();

    await waitFor("the reconnect and catch-up", () => s.stats().reconnects === 1 && s.stats().caughtUp === 2);
    expect(s.connected()).toBe(true);
    expect([(await nextWithin(s, 500))?.hash, (await nextWithin(s, 500))?.hash]).toEqual([b, c]);
    expect(heads.map((h) => h.hash)).toContain(missedHead.hash);
    expect(s.latestHead()?.hash).toBe(missedHead.hash);

    // The new subscription works.
    const d = await send(await sign(7, { to: SINK, data: "0x0d", nonce: nonce++ }));
    expect((await nextWithin(s, 3000))?.hash).toBe(d);

    // A second outage: the pool still holds b, c, d, all already emitted; nothing comes twice.
    await proxy.kill();
    await waitFor("the second loss", () => !s.connected());
    await proxy.restart();
    await waitFor("the second reconnect", () => s.stats().reconnects === 2);
    await waitFor(
      "the second catch-up",
      () => log.messages().filter((m) => m.startsWith("Caught up")).length === 3,
    );
    expect(await nextWithin(s, 200)).toBeUndefined();
    expect(s.stats()).toMatchObject({ caughtUp: 2, enqueued: 4, duplicates: 3 });

    const msgs = log.messages();
    expect(msgs.filter((m) => m === "Lost WebSocket connection")).toHaveLength(2);
    expect(msgs.filter((m) => m === "Reconnected")).toHaveLength(2);
    expect(log.lines.filter((l) => l.msg === "Caught up from txpool_content").map((l) => l.count)).toEqual([
      0, 2, 0,
    ]);
    await s.stop();
    await proxy.kill();
  });

  it("replaces a silent socket (no pong) through the keep-alive", async () => {
    const proxy = await startProxy(anvil.port);
    const { source: s, log } = await source({
      wsUrl: proxy.url,
      keepAlive: { intervalMs: 50, timeoutMs: 250 },
    });
    await s.start();
    await new Promise((r) => setTimeout(r, 300)); // several pings: a live node answers them
    expect(s.stats().reconnects).toBe(0);
    proxy.freeze();
    await waitFor("the reconnect", () => s.stats().reconnects === 1, 3000);
    expect(s.connected()).toBe(true);
    expect(log.lines.find((l) => l.msg === "Lost WebSocket connection")?.reason).toMatch(/no pong/);
    await s.stop();
    await proxy.kill();
  });

  it("keeps a socket whose pongs are late while its notifications keep coming", async () => {
    // A busy node answers a ping only after the notifications queued before it: it is not dead.
    // This fake node never answers pings at all, and sends a head every 20 ms until told to stop.
    let streaming = true;
    let block = 1;
    // (Both sockets stream: heads on one, the same transaction again and again on the other.)
    const node = await startFakeNode(
      (ws, note, stream) => {
        const timer = setInterval(() => {
          if (!streaming || ws.readyState !== ws.OPEN) return;
          const hash = `0x${(block++).toString(16).padStart(64, "0")}`;
          ws.send(
            stream === "heads"
              ? note("0xheads", { number: `0x${block.toString(16)}`, hash, timestamp: "0x1" })
              : note("0xtxs", VALID_TX),
          );
        }, 20);
        ws.once("close", () => clearInterval(timer));
      },
      { autoPong: false },
    );
    const closedHttp = await freePort();
    const { source: s, log } = await source({
      wsUrl: node.url,
      httpUrl: `http://127.0.0.1:${closedHttp}`,
      keepAlive: { intervalMs: 50, timeoutMs: 150 },
    });
    await s.start();
    await new Promise((r) => setTimeout(r, 600)); // a dozen pings, none answered
    expect(s.stats().reconnects).toBe(0);
    expect(log.messages()).not.toContain("Lost WebSocket connection");
    streaming = false; // now silent as well: gone
    await waitFor("the loss", () => log.messages().includes("Lost WebSocket connection"), 3000);
    expect(log.lines.find((l) => l.msg === "Lost WebSocket connection")?.reason).toMatch(
      /no pong or message/,
    );
    await s.stop();
    await node.close();
  });

  it("hears heads on a socket of their own, and loses and replaces both sockets as one", async () => {
    // A node sends each socket's notifications in order: on a shared socket a head waits behind
    // every pending transaction announced before it.
    const streams: { ws: WebSocket; stream: "txs" | "heads" }[] = [];
    const node = await startFakeNode((ws, _note, stream) => streams.push({ ws, stream }));
    const closedHttp = await freePort();
    const { source: s, log } = await source({ wsUrl: node.url, httpUrl: `http://127.0.0.1:${closedHttp}` });
    await s.start();
    expect(streams.map((x) => x.stream).sort()).toEqual(["heads", "txs"]);
    expect(streams[0]?.ws).not.toBe(streams[1]?.ws);
    // The node drops the heads socket: the connection is lost, both sockets replaced.
    const first = streams.splice(0);
    first.find((x) => x.stream === "heads")?.ws.terminate();
    await waitFor("the reconnect", () => s.stats().reconnects === 1);
    expect(log.messages()).toContain("Lost WebSocket connection");
    expect(streams.map((x) => x.stream).sort()).toEqual(["heads", "txs"]);
    await waitFor("the old transactions socket closed", () =>
      first.every((x) => x.ws.readyState === x.ws.CLOSED),
    );
    expect(s.connected()).toBe(true);
    await s.stop();
    await node.close();
  });

  it("rejects start() with a typed error and a hint when the node cannot be reached", async () => {
    const port = await freePort();
    const { source: s } = await source({ wsUrl: `ws://127.0.0.1:${port}` });
    const error = await s.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({ shortMessage: `cannot reach ws://127.0.0.1:${port}` });
    expect((error as RpcError).hint).toMatch(/WebSocket/);
    expect(s.connected()).toBe(false);
    await s.stop();
  });

  it("survives malformed messages from a node, counting and logging them", async () => {
    // A fake node: answers the two subscriptions, then sends garbage around one valid tx and head.
    const validTx = VALID_TX;
    const node = await startFakeNode((ws, note, stream) => {
      if (stream === "txs") {
        ws.send("this is not json");
        ws.send(JSON.stringify([1, 2]));
        ws.send(note("0xtxs", { hash: "0x12" }));
        ws.send(note("0xtxs", validTx.hash)); // a hash only: this node ignored `true`
        ws.send(note("0xunknown", validTx));
        ws.send(note("0xtxs", validTx));
      } else {
        ws.send(note("0xheads", { number: "zz" }));
        ws.send(note("0xheads", { number: "0x5", hash: validTx.hash, timestamp: "0x1" }));
      }
    });
    const closedHttp = await freePort();
    const { source: s, log } = await source({
      wsUrl: node.url,
      httpUrl: `http://127.0.0.1:${closedHttp}`,
    });
    await s.start(); // the HTTP catch-up fails: logged, not fatal
    expect((await nextWithin(s, 2000))?.hash).toBe(validTx.hash);
    await waitFor("the head", () => s.latestHead()?.number === 5n);
    expect(s.stats().malformed).toBe(6);
    expect(s.connected()).toBe(true);
    await s.stop();
    const reports = log.lines.filter((l) => l.msg === "Ignored malformed messages from the node");
    expect(reports.reduce((n, r) => n + Number(r.count), 0)).toBe(6);
    expect(log.messages()).toContain("Could not catch up from txpool_content");
    await node.close();
  });

  it("stop() wakes pending next() calls with undefined", async () => {
    // That nothing is left running (timers, sockets) is checked where it can be seen alone: in a
    // process of its own, which must exit (next test). Counting this process's timers here failed
    // now and then, with timers of earlier tests expiring in between.
    const { source: s } = await source({ keepAlive: { intervalMs: 1000, timeoutMs: 1000 } });
    await s.start();
    const waiting = [s.next(), s.next()];
    const controller = new AbortController();
    const aborted = s.next(controller.signal);
    controller.abort();
    expect(await aborted).toBeUndefined();
    await s.stop();
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    expect(await s.next()).toBeUndefined();
    expect(s.connected()).toBe(false);
    await s.stop(); // twice is fine
  });

  it("lets a process that started and stopped a source exit on its own", async () => {
    // The real check that nothing (timer, socket, pending request) keeps the event loop alive.
    const script = [
      `const { createMempoolSource } = await import(${JSON.stringify(new URL("../src/source/source.ts", import.meta.url).href)});`,
      `const { silentLogger } = await import(${JSON.stringify(new URL("../src/internal/logger.ts", import.meta.url).href)});`,
      `const s = createMempoolSource({ wsUrl: ${JSON.stringify(anvil.wsUrl)}, httpUrl: ${JSON.stringify(anvil.rpcUrl)}, logger: silentLogger(), keepAlive: { intervalMs: 1000, timeoutMs: 1000 } });`,
      "await s.start();",
      "const pending = s.next();",
      "await s.stop();",
      "process.stdout.write('stopped ' + String(await pending));",
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += String(d);
    });
    child.stderr.on("data", (d) => {
      out += String(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(timer);
    expect(out).toBe("stopped undefined");
    expect(code).toBe(0);
  });

  it("reconciles with the pool at every head while it is small, and now and then when it is not", async () => {
    // Two transactions with a nonce gap: queued in the pool, never announced by the subscription.
    const base = Number(await rpc.call<Hex>("eth_getTransactionCount", [anvilAccount(7).address, "pending"]));
    for (const nonce of [base + 5, base + 6]) await send(await sign(7, { to: SINK, data: "0xee", nonce }));
    const { source: small } = await source({ reconcileMaxPool: 1 });
    const { source: large } = await source();
    for (const s of [small, large]) await s.start();
    // Both caught up at start (always: the pool is read whole then). At each head the default
    // limit reads the pool again (finding the two already seen); over the limit, a pool is read
    // at the first head and then skipped for a while.
    expect([small.stats().caughtUp, large.stats().caughtUp]).toEqual([2, 2]);
    const duplicates = { small: small.stats().duplicates, large: large.stats().duplicates };
    await rpc.call("evm_mine");
    await waitFor(
      "both to reconcile",
      () =>
        small.stats().duplicates === duplicates.small + 2 &&
        large.stats().duplicates === duplicates.large + 2,
    );
    await rpc.call("evm_mine");
    await waitFor("the small one to skip", () => small.stats().reconcilesSkipped === 1);
    await waitFor(
      "the large one to reconcile again",
      () => large.stats().duplicates === duplicates.large + 4,
    );
    expect(small.stats().duplicates).toBe(duplicates.small + 2);
    expect(large.stats().reconcilesSkipped).toBe(0);
    await rpc.call("anvil_dropAllTransactions");
  });
});
