// Load generator for the latency benchmark, run as a child process so that signing and sending
// do not share an event loop with the daemon being measured. It pre-signs a seeded, realistic mix
// of transactions for `rate * duration` sends, then sends them at the given rate and prints what
// it sent (hash, epoch-ms send time, kind) as one JSON document on stdout.
import fs from "node:fs";
import { encodeDeployData, encodeFunctionData, type Hex, keccak256, parseGwei, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  DevToken,
  SwapRouter,
  VulnerableSpotPriceLendingMarket,
} from "../../src/contracts/generated/artifacts.ts";
import { createRpc } from "../../src/internal/rpc.ts";

export type LoadgenInput = {
  rpcUrl: string;
  chainId: number;
  keys: Hex[];
  rate: number;
  durationSec: number;
  seed: number;
  world: { router: Hex; pricePair: Hex; arbPair: Hex; usd: Hex; coll: Hex; market: Hex };
};

const input = JSON.parse(fs.readFileSync(process.argv[2] ?? "", "utf8")) as LoadgenInput;
const rpc = createRpc(input.rpcUrl);

/** mulberry32: a small seeded PRNG, so a run's mix is reproducible. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(input.seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const KINDS = [
  ["eth-transfer", 30],
  ["token-transfer", 15],
  ["swap-usd", 18],
  ["swap-coll", 17],
  ["deposit", 15],
  ["deploy", 5],
] as const;
type Kind = (typeof KINDS)[number][0];
const totalWeight = KINDS.reduce((s, [, w]) => s + w, 0);
function kind(): Kind {
  let r = rand() * totalWeight;
  for (const [k, w] of KINDS) {
    r -= w;
    if (r < 0) return k;
  }
  return "eth-transfer";
}

const accounts = input.keys.map((k) => privateKeyToAccount(k));
const nonces = await Promise.all(
  accounts.map(async (a) =>
    Number(BigInt(await rpc.call<Hex>("eth_getTransactionCount", [a.address, "pending"]))),
  ),
);
const w = input.world;
const total = Math.round(input.rate * input.durationSec);
const signed: { raw: Hex; hash: Hex; kind: Kind }[] = [];
/** Each sender's signed transactions by nonce, for re-sending one the node lost. */
const bySender = accounts.map(() => new Map<number, { raw: Hex; hash: Hex }>());
for (let i = 0; i < total; i++) {
  const s = i % accounts.length;
  const account = accounts[s];
  if (!account) continue;
  const k = kind();
  const usd = parseUnits(String(10 + Math.floor(rand() * 2000)), 6);
  const coll = parseUnits((0.01 + rand() * 1.5).toFixed(4), 18);
  let to: Hex | undefined;
  let data: Hex = "0x";
  let gas = 21_000n;
  let value = 0n;
  switch (k) {
    case "eth-transfer":
      to = (accounts[(s + 1) % accounts.length]?.address ?? account.address) as Hex;
      value = 1_000_000_000_000n;
      break;
    case "token-transfer":
      to = w.usd;
      data = encodeFunctionData({
        abi: DevToken.abi,
        functionName: "transfer",
        args: [pick(accounts).address, usd],
      });
      gas = 80_000n;
      break;
    case "swap-usd":
    case "swap-coll":
      to = w.router;
      data = encodeFunctionData({
        abi: SwapRouter.abi,
        functionName: "swapExactIn",
        args: [
          pick([w.pricePair, w.arbPair]),
          k === "swap-usd" ? w.usd : w.coll,
          k === "swap-usd" ? usd : coll,
          0n,
          account.address,
        ],
      });
      gas = 250_000n;
      break;
    case "deposit":
      to = w.market;
      data = encodeFunctionData({
        abi: VulnerableSpotPriceLendingMarket.abi,
        functionName: "deposit",
        args: [coll / 10n],
      });
      gas = 250_000n;
      break;
    case "deploy":
      data = encodeDeployData({
        abi: DevToken.abi,
        bytecode: DevToken.bytecode,
        args: [`Load ${i}`, `L${i}`, 18, account.address],
      });
      gas = 2_000_000n;
      break;
  }
  const nonce = nonces[s] ?? 0;
  nonces[s] = nonce + 1;
  const raw = await account.signTransaction({
    type: "eip1559",
    chainId: input.chainId,
    ...(to ? { to } : {}),
    data,
    value,
    gas,
    nonce,
    maxFeePerGas: parseGwei("50"),
    maxPriorityFeePerGas: parseGwei((1 + rand() * 2).toFixed(3)),
  });
  signed.push({ raw, hash: keccak256(raw), kind: k });
  bySender[s]?.set(nonce, { raw, hash: keccak256(raw) });
}
process.stderr.write(`loadgen: signed ${signed.length} transactions; sending at ${input.rate}/s\n`);
// The benchmark reads where the machine's CPU goes from here: signing is not part of the load.
process.stdout.write(`${JSON.stringify({ sending: true })}\n`);
const cpuAtStart = process.cpuUsage();

const now = () => performance.timeOrigin + performance.now();
const sent: { hash: Hex; at: number; kind: Kind }[] = [];
let errors = 0;
const errorSamples: string[] = [];

/**
 * What a wallet does when its transaction sits unmined: send it again. A devnet block that puts
 * bundles first reshuffles the pool, and a transaction that arrived mid-shuffle can be lost with
 * no notification left to recover it from (the builder puts back those it heard); without this,
 * its sender's later transactions wait behind the gap for the rest of the run. Every 2 s, a
 * sender whose mined nonce has not moved while it has sent more is re-sent its next transaction.
 */
let rebroadcast = 0;
const minedNonce: number[] = accounts.map(() => -1);
const sentUpTo: number[] = [...nonces];
async function rebroadcastStuck(): Promise<void> {
  const counts = await rpc.batch<Hex>(
    accounts.map((a) => ({ method: "eth_getTransactionCount", params: [a.address, "latest"] })),
  );
  await Promise.all(
    counts.map(async (c, s) => {
      if (typeof c !== "string") return;
      const mined = Number(BigInt(c));
      const stuck = mined === minedNonce[s] && mined < (sentUpTo[s] ?? 0);
      minedNonce[s] = mined;
      const tx = stuck ? bySender[s]?.get(mined) : undefined;
      if (!tx) return;
      try {
        await rpc.call("eth_sendRawTransaction", [tx.raw]);
        rebroadcast++;
      } catch {
        // Still in the pool after all ("already known"): it waits for a block, not for us.
      }
    }),
  );
}
const rebroadcaster = setInterval(() => void rebroadcastStuck().catch(() => undefined), 2_000);
let inflight = 0;
const start = now();
let next = 0;
/**
 * What is due goes out as one JSON-RPC batch per tick (at most SEND_BATCH): one HTTP request a
 * transaction cost this process ~45% of a core at 1,000 tx/s, taken from the devnet and the
 * daemon it is there to load. The node still takes each transaction on its own.
 */
const SEND_BATCH = 50;
const record = (tx: (typeof signed)[number], at: number, outcome: unknown) => {
  if (!(outcome instanceof Error)) {
    sent.push({ hash: tx.hash, at, kind: tx.kind });
    return;
  }
  errors++;
  if (errorSamples.length < 5) errorSamples.push(`${tx.kind}: ${outcome.message.split("\n")[0]}`);
};
await new Promise<void>((resolve) => {
  const tick = () => {
    const due = Math.min(signed.length, Math.floor(((now() - start) / 1000) * input.rate));
    while (next < due && inflight < 256) {
      const batch = signed.slice(next, Math.min(due, next + SEND_BATCH, next + 256 - inflight));
      for (let k = 0; k < batch.length; k++) {
        const s = (next + k) % accounts.length;
        sentUpTo[s] = (sentUpTo[s] ?? 0) + 1;
      }
      next += batch.length;
      inflight += batch.length;
      const at = now();
      rpc
        .batch(batch.map((tx) => ({ method: "eth_sendRawTransaction", params: [tx.raw] })))
        .then(
          (outcomes) => {
            for (const [k, tx] of batch.entries()) record(tx, at, outcomes[k]);
          },
          (error: unknown) => {
            const failed = error instanceof Error ? error : new Error(String(error));
            for (const tx of batch) record(tx, at, failed);
          },
        )
        .finally(() => {
          inflight -= batch.length;
        });
    }
    if (next >= signed.length && inflight === 0) resolve();
    else setTimeout(tick, 2);
  };
  tick();
});
const wallSec = (now() - start) / 1000;
clearInterval(rebroadcaster);
const { user, system } = process.cpuUsage(cpuAtStart);
/** CPU this process used sending (signing before excluded). */
const cpuSeconds = (user + system) / 1e6;
process.stdout.write(`${JSON.stringify({ sent, errors, errorSamples, rebroadcast, wallSec, cpuSeconds })}\n`);
