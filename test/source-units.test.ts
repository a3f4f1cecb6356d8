import http from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RpcError } from "../src/internal/errors.ts";
import { redactUrl } from "../src/internal/redact.ts";
import { backoffDelay } from "../src/source/backoff.ts";
import { createSeenHashes } from "../src/source/dedup.ts";
import { parseHead, parsePendingTx } from "../src/source/parse.ts";
import { createHashScanner, readPoolHashes } from "../src/source/pool.ts";
import { createPriorityQueue } from "../src/source/queue.ts";
import { defaultPriority } from "../src/source/source.ts";
import { createThrottledReport } from "../src/source/throttle.ts";

// Pure pieces of the source, no node needed. The fixtures are what Anvil 1.x sent.
const EIP1559 = {
  type: "0x2",
  chainId: "0x7a69",
  nonce: "0x0",
  gas: "0x493e0",
  maxFeePerGas: "0x174876e800",
  maxPriorityFeePerGas: "0x3b9aca00",
  to: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  value: "0x5",
  accessList: [],
  input: "0x1234",
  r: "0xa28c002e89eca854fce41302e72076d98769ab92fd241fad6fa0710b0f055132",
  s: "0x551f30dcacaba1b29635b77f16555b8ba2766e7faa9c49c2e5d534d25ed41379",
  yParity: "0x0",
  v: "0x0",
  hash: "0x317b3d143425e8f89614a28ff7af4cd89862bdcce3c96924df64a9c6a5e0b312",
  blockHash: null,
  blockNumber: null,
  transactionIndex: null,
  from: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  gasPrice: "0x77359400",
};

const HEAD = {
  hash: "0xfb095ec6ae3872dfefc9557feb5eeddfe1bb2871b64716678b9552992de6b68d",
  parentHash: "0xb78623358cabf08dcf1cd6bc941b421d4815a4737a14f9f6dfb8ef0b254992c2",
  number: "0x1",
  gasLimit: "0x1c9c380",
  timestamp: "0x6b03d0b6",
  baseFeePerGas: "0x3b9aca00",
};

describe("parsePendingTx", () => {
  it("parses a full EIP-1559 transaction: bigint fees, checksummed addresses, no effective gasPrice", () => {
    const r = parsePendingTx(EIP1559, 123.5);
    expect(r).toEqual({
      ok: true,
      value: {
        hash: EIP1559.hash,
        from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        to: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        nonce: 0,
        input: "0x1234",
        value: 5n,
        gas: 300_000n,
        gasPrice: undefined,
        maxFeePerGas: 100_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
        type: "0x2",
        chainId: 31337,
        signature: { r: EIP1559.r, s: EIP1559.s, v: 0n, yParity: 0 },
        accessList: [],
        seenAt: 123.5,
      },
    });
  });

  it("keeps gasPrice for legacy transactions, reads creations and the old `data` field", () => {
    const { maxFeePerGas: _a, maxPriorityFeePerGas: _b, to: _c, input: _d, ...rest } = EIP1559;
    const r = parsePendingTx({ ...rest, type: "0x0", gasPrice: "0x10", data: "0x60", chainId: undefined }, 1);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.to).toBeNull();
    expect(r.value.input).toBe("0x60");
    expect(r.value.gasPrice).toBe(16n);
    expect(r.value.maxFeePerGas).toBeUndefined();
    expect(r.value.chainId).toBeUndefined();
  });

  it.each([
    ["not an object", "0x317b"],
    ["null", null],
    ["an array", [EIP1559]],
    ["a short hash", { ...EIP1559, hash: "0x12" }],
    ["a missing from", { ...EIP1559, from: undefined }],
    ["a bad to", { ...EIP1559, to: "0x1234" }],
    ["a decimal nonce", { ...EIP1559, nonce: 5 }],
    ["a huge nonce", { ...EIP1559, nonce: "0xffffffffffffffffff" }],
    ["odd-length input", { ...EIP1559, input: "0x123" }],
    ["a non-hex value", { ...EIP1559, value: "0xzz" }],
    ["an empty quantity", { ...EIP1559, gas: "0x" }],
    ["a bad fee", { ...EIP1559, maxFeePerGas: "lots" }],
    ["a bad signature", { ...EIP1559, r: "0xzz" }],
    ["a yParity above 1", { ...EIP1559, yParity: "0x2" }],
    ["an access list that is not a list", { ...EIP1559, accessList: "0x" }],
    [
      "an access list with a bad key",
      { ...EIP1559, accessList: [{ address: EIP1559.to, storageKeys: ["0x1"] }] },
    ],
    ["a bad type", { ...EIP1559, type: 2 }],
  ])("rejects %s with a reason instead of throwing", (_name, raw) => {
    const r = parsePendingTx(raw, 0);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/transaction/);
  });
});

describe("parseHead", () => {
  it("parses a header", () => {
    expect(parseHead(HEAD, 7)).toEqual({
      ok: true,
      value: {
        number: 1n,
        hash: HEAD.hash,
        timestamp: 0x6b03d0b6n,
        baseFeePerGas: 1_000_000_000n,
        seenAt: 7,
      },
    });
  });

  it("reads a missing base fee as null and rejects a missing number", () => {
    const { baseFeePerGas: _, ...preLondon } = HEAD;
    const r = parseHead(preLondon, 0);
    expect(r.ok && r.value.baseFeePerGas).toBeNull();
    expect(parseHead({ ...HEAD, number: undefined }, 0)).toEqual({
      ok: false,
      reason: "head: number is not a hex quantity",
    });
  });
});

describe("txpool_content hash scanner", () => {
  const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
  const POOL = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    result: {
      pending: {
        "0xa": {
          "9": { blockHash: null, hash: h(1), nonce: "0x9" },
          "10": { hash: h(2).toUpperCase().replace("0X", "0x") },
        },
      },
      queued: { "0xb": { "3": { hash: null, note: "not a transaction hash" } } },
    },
  }).replace(`"hash":"${h(1)}"`, `"hash" :  "${h(1)}"`); // whitespace JSON allows

  it("finds every hash, lowercased, however the text is split into chunks", () => {
    for (let cut = 0; cut <= POOL.length; cut++) {
      const found: string[] = [];
      const scanner = createHashScanner((x) => found.push(x));
      scanner.push(POOL.slice(0, cut));
      scanner.push(POOL.slice(cut));
      expect(found, `split at ${cut}`).toEqual([h(1), h(2)]);
    }
    const found: string[] = [];
    const scanner = createHashScanner((x) => found.push(x));
    for (const ch of POOL) scanner.push(ch); // one character at a time
    expect(found).toEqual([h(1), h(2)]);
  });

  it("reads a node's pool as a stream: unknown hashes up to a limit, errors typed", async () => {
    let answer = "";
    const server = http.createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      // Sent in small writes, as a large answer arrives.
      for (let i = 0; i < answer.length; i += 100) res.write(answer.slice(i, i + 100));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    try {
      const big = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [String(i), { hash: h(i + 1) }]));
      answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { pending: { "0xa": big }, queued: {} } });
      const known = new Set([h(1), h(2)]);
      const read = await readPoolHashes(url, { timeoutMs: 5000, isKnown: (x) => known.has(x), limit: 1500 });
      expect(read.total).toBe(2000);
      expect(read.unknown).toHaveLength(1500);
      expect(read.unknown[0]).toBe(h(3));
      expect(read.truncated).toBe(true);

      answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { pending: {}, queued: {} } });
      expect(await readPoolHashes(url, { timeoutMs: 5000, isKnown: () => false, limit: 10 })).toEqual({
        unknown: [],
        total: 0,
        truncated: false,
      });

      answer = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        error: { code: -32601, message: "Method not found" },
      });
      const error = await readPoolHashes(url, { timeoutMs: 5000, isKnown: () => false, limit: 10 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RpcError);
      expect(error).toMatchObject({ code: -32601 });

      answer = "<html>busy</html>";
      await expect(readPoolHashes(url, { timeoutMs: 5000, isKnown: () => false, limit: 10 })).rejects.toThrow(
        /non-JSON/,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("priority queue", () => {
  it("serves the highest priority first, first-in first-out among equals", () => {
    const q = createPriorityQueue<string>(10);
    q.push("low1", 0);
    q.push("high1", 5);
    q.push("mid", 1);
    q.push("high2", 5);
    q.push("low2", 0);
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([
      "high1",
      "high2",
      "mid",
      "low1",
      "low2",
      undefined,
    ]);
    expect(q.size).toBe(0);
  });

  it("when full, evicts the oldest of the lowest priority, or the newcomer if it ranks below all", () => {
    const q = createPriorityQueue<string>(3);
    expect(q.push("a0", 0)).toBeUndefined();
    expect(q.push("b1", 1)).toBeUndefined();
    expect(q.push("c0", 0)).toBeUndefined();
    expect(q.push("d2", 2)).toBe("a0");
    expect(q.push("e0", 0)).toBe("c0");
    expect(q.push("f-1", -1)).toBe("f-1");
    expect(q.size).toBe(3);
    expect([q.pop(), q.pop(), q.pop()]).toEqual(["d2", "b1", "e0"]);
  });

  it("stays correct through many pushes and pops (bucket compaction)", () => {
    const q = createPriorityQueue<number>(5000);
    for (let i = 0; i < 5000; i++) q.push(i, i % 3);
    const out: number[] = [];
    for (let x = q.pop(); x !== undefined; x = q.pop()) out.push(x);
    expect(out).toHaveLength(5000);
    const byPriority = [2, 1, 0].flatMap((p) => out.filter((x) => x % 3 === p));
    expect(out).toEqual(byPriority);
    expect(out.filter((x) => x % 3 === 2)).toEqual([...out.filter((x) => x % 3 === 2)].sort((a, b) => a - b));
  });

  it("rejects NaN priorities and bad capacities", () => {
    expect(() => createPriorityQueue(0)).toThrow(RangeError);
    expect(() => createPriorityQueue<string>(1).push("x", Number.NaN)).toThrow(RangeError);
  });
});

describe("seen hashes", () => {
  it("reports duplicates and forgets the least recently seen beyond capacity", () => {
    const s = createSeenHashes(2);
    expect(s.add("a")).toBe(true);
    expect(s.add("b")).toBe(true);
    expect(s.add("a")).toBe(false); // refreshes a
    expect(s.add("c")).toBe(true); // forgets b, the least recently seen
    expect(s.has("a")).toBe(true);
    expect(s.has("b")).toBe(false);
    expect(s.size).toBe(2);
  });
});

describe("small helpers", () => {
  it("backoff grows exponentially, stays within [ceiling/2, ceiling], and is capped", () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, o, () => 0)).toBe(50);
    expect(backoffDelay(0, o, () => 1)).toBe(100);
    expect(backoffDelay(2, o, () => 1)).toBe(400);
    expect(backoffDelay(10, o, () => 0.5)).toBe(750);
    expect(backoffDelay(10_000, o, () => 1)).toBe(1000);
  });

  it("default priority: calldata and creations 1, plain transfers 0", () => {
    const r = parsePendingTx(EIP1559, 0);
    if (!r.ok) throw new Error(r.reason);
    expect(defaultPriority(r.value)).toBe(1);
    expect(defaultPriority({ ...r.value, input: "0x" })).toBe(0);
    expect(defaultPriority({ ...r.value, input: "0x", to: null })).toBe(1);
  });

  it("redacts what may hold an API key from node URLs", () => {
    expect(redactUrl("ws://127.0.0.1:8545")).toBe("ws://127.0.0.1:8545");
    expect(redactUrl("wss://mainnet.infura.io/ws/v3/SECRET")).toBe("wss://mainnet.infura.io/…");
    expect(redactUrl("wss://user:SECRET@node.example")).toBe("wss://node.example/…");
    expect(redactUrl("https://node.example/?key=SECRET")).toBe("https://node.example/…");
    expect(redactUrl("not a url")).toBe("…");
  });

  describe("throttled report", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("reports the first event at once and aggregates the rest into one report per interval", () => {
      vi.useFakeTimers();
      const reports: [number, readonly string[]][] = [];
      const r = createThrottledReport({
        intervalMs: 1000,
        maxSamples: 2,
        now: () => Date.now(),
        report: (n, s) => reports.push([n, s]),
      });
      r.record("a");
      r.record("b");
      r.record("c");
      r.record("d");
      expect(reports).toEqual([[1, ["a"]]]);
      vi.advanceTimersByTime(1000);
      expect(reports).toEqual([
        [1, ["a"]],
        [3, ["b", "c"]],
      ]);
      r.record("e");
      r.flush();
      expect(reports[2]).toEqual([1, ["e"]]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
