import { type Address, getAddress, type Hex } from "viem";
import type { Rpc } from "../internal/rpc.ts";
import {
  blockOverrides,
  blockTag,
  CALL_TRACER,
  callOf,
  logsInOrder,
  normaliseFrame,
  type RawFrame,
  TRANSFER_TOPIC,
} from "../simulate/simulate.ts";
import type { BlockContext, StateOverlay } from "../simulate/types.ts";
import type { PendingTx } from "../source/types.ts";

type SimCall = {
  status: Hex;
  gasUsed: Hex;
  logs?: { address: string; topics: Hex[]; data: Hex }[];
  error?: { message?: string };
};

export type Proof =
  | { works: true; pauseGasUsed: bigint; attackReverted: boolean; drainedAfterPause: boolean }
  | { works: false; reason: string; pauseGasUsed: bigint };

/** What a proof runs: the pause, then the attack (after its sender's pending predecessors). */
export type ProofParams = {
  sentinel: Address;
  guardian: Address;
  pauseData: Hex;
  attack: PendingTx;
  /**
   * The attacker's earlier pending transactions the attack was simulated after (nonce order):
   * they run between the pause and the attack, as they would land behind the pause. Without
   * them a call to a contract they deploy reaches no code, and any pause would look sufficient.
   */
  before?: readonly PendingTx[];
  targets: readonly Address[];
  context: BlockContext;
  /**
   * The state the attack was simulated with in place of the fork's (it ran as at a newer head):
   * the proof runs on the same state, or a contract deployed at that head would be missing and
   * any pause would look sufficient.
   */
  state?: StateOverlay["state"];
  /**
   * The block whose state the proof runs on, instead of the RPC's latest (`state` is then not
   * applied): the node's own block the attack was simulated at (see `ResponseRequest.atNode`).
   * Not for a proof that mines (with predecessors), which runs on a fork's latest.
   */
  block?: bigint;
};

/**
 * Before anything is sent: run [pause, attack] in one simulated next block (`eth_simulateV1`)
 * and check that the pause succeeds and the attack then fails, or at least no longer moves
 * tokens out of the targets. A pause that would not stop the attack is not worth a bundle: the
 * caller alerts instead and says why. A creation (which Anvil's `eth_simulateV1` cannot run) is
 * traced after the pause's writes instead (`proveCreation`). With predecessors, the proof mines
 * (they may be creations too), on a fork the caller holds alone.
 */
export async function provePause(rpc: Rpc, p: ProofParams): Promise<Proof> {
  if ((p.before?.length ?? 0) > 0) return proveByMining(rpc, p);
  if (!p.attack.to) return proveCreation(rpc, p);
  const attackCall = callOf(p.attack);
  const result = await rpc.call<{ calls: SimCall[] }[]>("eth_simulateV1", [
    {
      blockStateCalls: [
        {
          blockOverrides: blockOverrides(p.context),
          ...(p.state && p.block === undefined ? { stateOverrides: p.state } : {}),
          calls: [{ from: p.sentinel, to: p.guardian, data: p.pauseData, gas: "0x1e8480" }, attackCall],
        },
      ],
      validation: false,
    },
    blockTag(p.block),
  ]);
  const [pause, attack] = result[0]?.calls ?? [];
  if (!pause || !attack)
    return { works: false, reason: "eth_simulateV1 returned no call results", pauseGasUsed: 0n };
  return judge(
    { status: pause.status, gasUsed: pause.gasUsed, error: pause.error?.message },
    { status: attack.status, logs: attack.logs ?? [] },
    p.targets,
  );
}

type RawAccount = { balance?: string; nonce?: number | string; storage?: Record<string, string> };

/**
 * The proof of a creation without mining (so on the node, or on any fork, read-only): the pause is
 * traced (its result, and its writes from the prestate tracer's diff), then the attack is traced
 * with those writes put in place, in the same next block. That is the attack as it would run right
 * after the pause in that block: no mining, no fork of its own (a mining proof waited ~65 ms for
 * one in the fire drill).
 */
async function proveCreation(rpc: Rpc, p: ProofParams): Promise<Proof> {
  const at = blockTag(p.block);
  const state = p.block === undefined ? p.state : undefined;
  const block = blockOverrides(p.context);
  const pauseCall = { from: p.sentinel, to: p.guardian, data: p.pauseData, gas: "0x1e8480" };
  const trace = <T>(call: object, tracer: object, overrides?: object) =>
    rpc.call<T>("debug_traceCall", [
      call,
      at,
      { ...tracer, blockOverrides: block, ...(overrides ? { stateOverrides: overrides } : {}) },
    ]);
  const [pause, diff] = await Promise.all([
    trace<RawFrame>(pauseCall, { tracer: "callTracer" }, state),
    trace<{ pre?: Record<string, RawAccount>; post?: Record<string, RawAccount> }>(
      pauseCall,
      { tracer: "prestateTracer", tracerConfig: { diffMode: true } },
      state,
    ),
  ]);
  // The pause's writes on top of the overlay (if any). A slot the diff has before but not after
  // was cleared.
  type Override = { balance?: string; nonce?: string; stateDiff?: Record<string, string> };
  const after: Record<string, Override> = {};
  for (const [address, a] of Object.entries(state ?? {})) after[getAddress(address)] = { ...a };
  const accountOf = (address: string): Override => {
    const key = getAddress(address);
    const account = after[key] ?? {};
    after[key] = account;
    return account;
  };
  for (const [address, pre] of Object.entries(diff.pre ?? {})) {
    const post = diff.post?.[address] ?? {};
    const account = accountOf(address);
    const slots: Record<string, string> = { ...account.stateDiff };
    for (const slot of Object.keys(pre.storage ?? {})) slots[slot] = `0x${"0".repeat(64)}`;
    for (const [slot, value] of Object.entries(post.storage ?? {})) slots[slot] = value;
    if (Object.keys(slots).length > 0) account.stateDiff = slots;
  }
  for (const [address, post] of Object.entries(diff.post ?? {})) {
    const account = accountOf(address);
    if (post.balance !== undefined) account.balance = post.balance;
    if (post.nonce !== undefined) account.nonce = `0x${BigInt(post.nonce).toString(16)}`;
    if (post.storage && !diff.pre?.[address]) account.stateDiff = { ...account.stateDiff, ...post.storage };
  }
  const attack = normaliseFrame(await trace<RawFrame>(callOf(p.attack), CALL_TRACER, after));
  return judge(
    { status: pause.error ? "0x0" : "0x1", gasUsed: (pause.gasUsed ?? "0x0") as Hex, error: pause.error },
    {
      status: attack.error ? "0x0" : "0x1",
      logs: logsInOrder(attack).map(({ log }) => ({ topics: log.topics })),
    },
    p.targets,
  );
}

type Outcome = { status: Hex; gasUsed?: Hex; error?: string | undefined; logs?: { topics: Hex[] }[] };

/**
 * Whether [pause, attack] shows the pause working: the pause succeeds, and the attack then
 * reverts or at least no longer moves tokens out of the targets.
 */
function judge(pause: Outcome, attack: Outcome, targetList: readonly Address[]): Proof {
  const pauseGasUsed = BigInt(pause.gasUsed ?? "0x0");
  if (pause.status !== "0x1") {
    return { works: false, reason: `the pause itself fails: ${pause.error ?? "reverted"}`, pauseGasUsed };
  }
  const attackReverted = attack.status !== "0x1";
  const targets = new Set(targetList.map((t) => getAddress(t)));
  const drainedAfterPause = (attack.logs ?? []).some(
    (l) =>
      l.topics[0] === TRANSFER_TOPIC &&
      l.topics[1] !== undefined &&
      targets.has(getAddress(`0x${l.topics[1].slice(26)}`)),
  );
  if (!attackReverted && drainedAfterPause) {
    return {
      works: false,
      reason: "the attack still moves tokens out of the targets after the pause",
      pauseGasUsed,
    };
  }
  return { works: true, pauseGasUsed, attackReverted, drainedAfterPause };
}

type Receipt = { status: Hex; gasUsed: Hex; logs: { address: string; topics: Hex[]; data: Hex }[] };

/**
 * The same proof by mining a block on the fork (Anvil's `eth_simulateV1` cannot run contract
 * creations, and an attack may live in a constructor): impersonate both senders, send the pause,
 * the attack's pending predecessors then the attack, mine at the next block's timestamp, read
 * the receipts, revert. The sends all carry the same default fees, so the block keeps their order.
 */
async function proveByMining(rpc: Rpc, p: ProofParams): Promise<Proof> {
  const send = (tx: PendingTx) => rpc.call<Hex>("eth_sendTransaction", [callOf(tx)]);
  const snapshot = await rpc.call<Hex>("evm_snapshot");
  try {
    if (p.state) await overlay(rpc, p.state);
    // Predecessors the fork has mined already (it may be at a newer head) are not sent again.
    const mined =
      (p.before?.length ?? 0) > 0
        ? BigInt(await rpc.call<Hex>("eth_getTransactionCount", [p.attack.from, "latest"]))
        : 0n;
    const before = (p.before ?? []).filter((b) => BigInt(b.nonce) >= mined);
    await rpc.call("anvil_impersonateAccount", [p.sentinel]);
    await rpc.call("anvil_impersonateAccount", [p.attack.from]);
    const pauseHash = await rpc.call<Hex>("eth_sendTransaction", [
      { from: p.sentinel, to: p.guardian, data: p.pauseData, gas: "0x1e8480" },
    ]);
    for (const b of before) await send(b);
    const attackHash = await send(p.attack);
    await rpc.call("evm_setNextBlockTimestamp", [`0x${p.context.timestamp.toString(16)}`]);
    await rpc.call("evm_mine");
    const pause = await rpc.call<Receipt | null>("eth_getTransactionReceipt", [pauseHash]);
    const attack = await rpc.call<Receipt | null>("eth_getTransactionReceipt", [attackHash]);
    if (!pause || !attack)
      return { works: false, reason: "the proof block did not include both transactions", pauseGasUsed: 0n };
    return judge(pause, attack, p.targets);
  } finally {
    await rpc.call("evm_revert", [snapshot]);
    await rpc.call("anvil_dropAllTransactions");
    await rpc.call("anvil_stopImpersonatingAccount", [p.sentinel]);
    await rpc.call("anvil_stopImpersonatingAccount", [p.attack.from]);
  }
}

/** Writes an overlay's accounts into the fork's state (undone by the caller's snapshot revert). */
async function overlay(rpc: Rpc, state: NonNullable<ProofParams["state"]>): Promise<void> {
  const answers = await rpc.batch(
    Object.entries(state).flatMap(([address, a]) => [
      ...(a.balance ? [{ method: "anvil_setBalance", params: [address, a.balance] }] : []),
      ...(a.nonce ? [{ method: "anvil_setNonce", params: [address, a.nonce] }] : []),
      ...(a.code ? [{ method: "anvil_setCode", params: [address, a.code] }] : []),
      ...Object.entries(a.stateDiff ?? {}).map(([slot, value]) => ({
        method: "anvil_setStorageAt",
        params: [address, slot, value],
      })),
    ]),
  );
  const failed = answers.find((a) => a instanceof Error);
  if (failed) throw failed;
}
