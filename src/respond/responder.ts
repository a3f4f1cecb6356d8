import { FlashbotsBundleProvider } from "@flashbots/ethers-provider-bundle";
import { JsonRpcProvider, Wallet } from "ethers";
import { type Address, type Hex, keccak256, type LocalAccount } from "viem";
import { describeError } from "../internal/errors.ts";
import type { Logger } from "../internal/logger.ts";
import type { Rpc } from "../internal/rpc.ts";
import type { BlockContext, StateOverlay } from "../simulate/types.ts";
import type { Head, PendingTx } from "../source/types.ts";
import { type FeePolicy, pauseCalldata, pauseFees, signPause } from "./pause-tx.ts";
import { type Proof, provePause } from "./prove.ts";

export type Outcome = "paused" | "attack-mined-first" | "attack-dropped" | "not-sent" | "failed";

export type ResponseEvent =
  | { kind: "proof"; at: number; proof: Proof }
  | {
      kind: "bundle";
      /** When the relay acknowledged (or refused) it. */
      at: number;
      /** When the request started (signing the relay header included). */
      sentAt: number;
      relay: string;
      targetBlock: bigint;
      bundleHash?: Hex;
      error?: string;
      pauseTxHash: Hex;
    }
  | { kind: "public"; at: number; pauseTxHash: Hex; error?: string }
  | {
      kind: "resolved";
      at: number;
      outcome: Outcome;
      includedBlock?: bigint;
      pauseTxHash?: Hex;
      detail?: string;
    };

export type ResponseRequest = {
  incidentId: Hex;
  attack: PendingTx;
  targets: Address[];
  /** Next-block context the attack was simulated in. */
  context: BlockContext;
  /** The attacker's earlier pending transactions the attack was simulated after (the proof runs them too). */
  before?: readonly PendingTx[];
  /** State the attack was simulated with in place of the fork's (the proof uses it too). */
  state?: StateOverlay["state"];
  /**
   * The attack was simulated on the node itself, at this block (its call tree, references and
   * all): the proof runs there too, on the node's state, not on a fork. A proof that mines still
   * runs on a fork, with `state`.
   */
  atNode?: bigint;
};

export type ResponderOptions = {
  upstream: Rpc;
  chainId: number;
  guardian: Address;
  sentinel: LocalAccount;
  relays: readonly { url: string; name: string }[];
  /** Signs X-Flashbots-Signature (reputation key); never the sentinel key. */
  relayAuthKey: Hex | undefined;
  blocksAhead: number;
  fees: FeePolicy;
  publicFallback: boolean;
  /** Give up after this many blocks without the pause landing. */
  maxBlocks?: number;
  /** Runs `fn` on a fork at the head that nothing else uses meanwhile (for a proof that mines). */
  withFork: <T>(fn: (rpc: Rpc) => Promise<T>) => Promise<T>;
  logger: Logger;
  now?: () => number;
};

export type Responder = {
  /** Resolves once keys are warmed up and the sentinel's nonce is known. */
  ready(): Promise<void>;
  /**
   * Proves, sends and follows the pause until it resolves. `forkRpc`: a fork at the attack's
   * state that may be used for the proof (read-only calls only). `beforeSend`: work that must be
   * done before anything leaves (the incident record's first line); it runs alongside the proof.
   */
  respond(
    request: ResponseRequest,
    onEvent: (e: ResponseEvent) => void,
    options?: { forkRpc?: Rpc; beforeSend?: Promise<unknown>; proof?: Promise<Proof> },
  ): Promise<Outcome>;
  /**
   * Proves a pause for `request` on `forkRpc` (a fork at the attack's state, read-only calls
   * only) without sending anything: started early, while the decision is still being made, its
   * result can be handed to `respond` as `proof`. A request simulated at the node (`atNode`) is
   * proved there instead. A proof that mines (predecessors to run first) needs a fork of its
   * own: it cannot be proved here.
   */
  prove(request: ResponseRequest, forkRpc: Rpc): Promise<Proof>;
  onHead(head: Head): void;
  stop(): Promise<void>;
};

type Active = {
  request: ResponseRequest;
  onEvent: (e: ResponseEvent) => void;
  resolve: (o: Outcome) => void;
  data: Hex;
  gas: bigint;
  nonce: number;
  signed: Map<Hex, Hex>;
  /** Highest block we have bundles out for. */
  coveredTo: bigint;
  firstBlock: bigint;
  publicSent: boolean;
  checking: boolean;
};

type Receipt = { blockNumber: Hex; status: Hex; transactionIndex: Hex };

/**
 * How a response ended, from the receipts of the pause and of the attack (null: not mined yet);
 * undefined while neither is mined. A pause that landed after the attack did not prevent it, even
 * though the target is now paused: that is "attack-mined-first", never "paused".
 */
export function outcomeFromReceipts(
  pause: Receipt | null,
  attack: Receipt | null,
): { outcome: Outcome; includedBlock?: bigint; detail?: string } | undefined {
  const at = (r: Receipt) => `block ${BigInt(r.blockNumber)} (index ${BigInt(r.transactionIndex)})`;
  if (attack) {
    const attackFirst =
      !pause ||
      BigInt(attack.blockNumber) < BigInt(pause.blockNumber) ||
      (attack.blockNumber === pause.blockNumber &&
        BigInt(attack.transactionIndex) < BigInt(pause.transactionIndex));
    if (attackFirst)
      return {
        outcome: "attack-mined-first",
        ...(pause ? { includedBlock: BigInt(pause.blockNumber) } : {}),
        detail: `attack mined in ${at(attack)}${pause ? `, the pause after it in ${at(pause)}` : ""}`,
      };
  }
  if (!pause) return undefined;
  if (pause.status === "0x1") return { outcome: "paused", includedBlock: BigInt(pause.blockNumber) };
  return { outcome: "failed", detail: `pause reverted in ${at(pause)}` };
}

/**
 * Sends the pause ahead of the attack: proves it on a fork, signs it with the sentinel key,
 * bundles it to every relay for the next `blocksAhead` blocks, and on every new head checks the
 * outcome and re-signs/resubmits until the pause lands, the attack is mined or dropped, or it
 * gives up. Two replicas doing this at once do no harm: the Guardian skips a target that is
 * already paused, and a replica's pause that lands second is a no-op.
 */
export function createResponder(options: ResponderOptions): Responder {
  const { upstream, logger, sentinel } = options;
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const active = new Map<Hex, Active>();
  /** The sentinel's next nonce, refreshed on every head so a response need not ask for it. */
  let cachedNonce: number | undefined;
  const refreshNonce = async () => {
    cachedNonce = Number(
      BigInt(await upstream.call<Hex>("eth_getTransactionCount", [sentinel.address, "latest"])),
    );
  };
  const provider = new JsonRpcProvider(options.upstream.url, options.chainId, {
    staticNetwork: true,
    batchMaxCount: 1,
    cacheTimeout: -1,
  });
  const authSigner = options.relayAuthKey ? new Wallet(options.relayAuthKey) : Wallet.createRandom();
  type Create = Parameters<typeof FlashbotsBundleProvider.create>;
  const relayClients = Promise.all(
    options.relays.map(async (r) => ({
      name: r.name,
      // The library is CommonJS and types ethers' CJS build; at runtime the objects are the same.
      client: await FlashbotsBundleProvider.create(
        provider as unknown as Create[0],
        authSigner as unknown as Create[1],
        r.url,
        options.chainId,
      ),
    })),
  );

  async function sign(a: Active, baseFee: bigint): Promise<{ raw: Hex; hash: Hex }> {
    const fees = pauseFees(a.request.attack, baseFee, options.fees);
    const raw = await signPause(sentinel, {
      chainId: options.chainId,
      guardian: options.guardian,
      data: a.data,
      nonce: a.nonce,
      gas: a.gas,
      ...fees,
    });
    const hash = keccak256(raw);
    a.signed.set(hash, raw);
    return { raw, hash };
  }

  async function submit(
    a: Active,
    fromBlock: bigint,
    baseFee: bigint,
    /** The pause already signed for this base fee, if it was. */
    signed?: Promise<{ raw: Hex; hash: Hex }>,
  ): Promise<void> {
    const { raw, hash } = await (signed ?? sign(a, baseFee));
    const clients = await relayClients;
    const blocks = Array.from({ length: options.blocksAhead }, (_, i) => fromBlock + BigInt(i));
    a.coveredTo = blocks[blocks.length - 1] ?? fromBlock;
    // The next block matters most: its bundles go out first, on every relay at once; the later
    // blocks' copies follow, so their signing does not delay the first.
    const [first, ...later] = blocks;
    for (const batch of [first === undefined ? [] : [first], later]) {
      await Promise.all(
        clients.flatMap(({ name, client }) =>
          batch.map(async (block) => {
            const sentAt = now();
            try {
              const r = await client.sendRawBundle([raw], Number(block));
              if ("error" in r) throw new Error(r.error.message);
              a.onEvent({
                kind: "bundle",
                at: now(),
                sentAt,
                relay: name,
                targetBlock: block,
                bundleHash: r.bundleHash as Hex,
                pauseTxHash: hash,
              });
            } catch (error) {
              logger.warn(
                { relay: name, block: Number(block), err: describeError(error) },
                "Relay refused bundle",
              );
              a.onEvent({
                kind: "bundle",
                at: now(),
                sentAt,
                relay: name,
                targetBlock: block,
                error: describeError(error),
                pauseTxHash: hash,
              });
            }
          }),
        ),
      );
    }
  }

  function finish(
    a: Active,
    outcome: Outcome,
    extra: { includedBlock?: bigint; pauseTxHash?: Hex; detail?: string } = {},
  ) {
    if (!active.has(a.request.incidentId)) return;
    active.delete(a.request.incidentId);
    a.onEvent({ kind: "resolved", at: now(), outcome, ...extra });
    logger.info(
      { incident: a.request.incidentId, outcome, block: extra.includedBlock?.toString() },
      "Resolved incident response",
    );
    a.resolve(outcome);
  }

  async function check(a: Active, head: Head): Promise<void> {
    let pause: { hash: Hex; receipt: Receipt } | undefined;
    for (const hash of a.signed.keys()) {
      const receipt = await upstream.call<Receipt | null>("eth_getTransactionReceipt", [hash]);
      if (receipt) {
        pause = { hash, receipt };
        break;
      }
    }
    const attackReceipt = await upstream.call<Receipt | null>("eth_getTransactionReceipt", [
      a.request.attack.hash,
    ]);
    const settled = outcomeFromReceipts(pause?.receipt ?? null, attackReceipt);
    if (settled) {
      const { outcome, ...extra } = settled;
      finish(a, outcome, { ...extra, ...(pause ? { pauseTxHash: pause.hash } : {}) });
      return;
    }
    const pending = await upstream.call<unknown>("eth_getTransactionByHash", [a.request.attack.hash]);
    if (pending === null) {
      finish(a, "attack-dropped", { detail: "the attack left the mempool without being mined" });
      return;
    }
    if (head.number - a.firstBlock + 1n >= BigInt(options.maxBlocks ?? 25)) {
      finish(a, "failed", { detail: `no pause landed in ${options.maxBlocks ?? 25} blocks` });
      return;
    }
    // Our nonce may have been used by another transaction of the sentinel: take the next one.
    const nonce = Number(
      BigInt(await upstream.call<Hex>("eth_getTransactionCount", [sentinel.address, "latest"])),
    );
    if (nonce > a.nonce) {
      a.nonce = nonce;
      a.signed.clear();
    }
    const baseFee = head.baseFeePerGas ?? 0n;
    if (head.number + 1n > a.coveredTo - 1n || a.signed.size === 0)
      await submit(a, head.number + 1n, baseFee);
    if (options.publicFallback && !a.publicSent && head.number >= a.firstBlock + 1n) {
      a.publicSent = true;
      const { raw, hash } = await sign(a, baseFee);
      try {
        await upstream.call("eth_sendRawTransaction", [raw]);
        a.onEvent({ kind: "public", at: now(), pauseTxHash: hash });
      } catch (error) {
        a.onEvent({ kind: "public", at: now(), pauseTxHash: hash, error: describeError(error) });
      }
    }
  }

  const proofParams = (request: ResponseRequest) => ({
    sentinel: sentinel.address,
    guardian: options.guardian,
    pauseData: pauseCalldata(request.targets, request.incidentId),
    attack: request.attack,
    targets: request.targets,
    context: request.context,
    ...(request.before ? { before: request.before } : {}),
    ...(request.state ? { state: request.state } : {}),
    ...(request.atNode !== undefined && !mines(request) ? { block: request.atNode } : {}),
  });
  /** A proof that mines (predecessors to run first) needs a fork to itself. */
  const mines = (request: ResponseRequest) => (request.before?.length ?? 0) > 0;

  // The first secp256k1 signature of a process builds precomputed tables (tens of ms): pay that
  // at start, not on the way to a pause. Nothing signed here is sent.
  const warm = Promise.all([
    sentinel.signTransaction({
      type: "eip1559",
      chainId: options.chainId,
      to: options.guardian,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 1n,
      maxPriorityFeePerGas: 1n,
    }),
    authSigner.signMessage("vigil warm-up"),
    refreshNonce(),
  ]).catch((error) => logger.warn({ err: describeError(error) }, "Failed to warm up the responder"));

  return {
    ready: async () => {
      await warm;
    },
    prove(request, forkRpc) {
      if (mines(request))
        return Promise.reject(new Error("a proof that mines runs on a fork of its own: use respond"));
      return provePause(request.atNode !== undefined ? upstream : forkRpc, proofParams(request));
    },
    async respond(request, onEvent, respondOptions = {}) {
      const { forkRpc, beforeSend } = respondOptions;
      const data = pauseCalldata(request.targets, request.incidentId);
      // The simulation's own fork (or the node) is at the right state and already warm; a proof
      // that mines (predecessors first) needs a fork to itself.
      const proof = await (respondOptions.proof ??
        (mines(request)
          ? options.withFork((rpc) => provePause(rpc, proofParams(request)))
          : request.atNode !== undefined || forkRpc
            ? provePause(request.atNode !== undefined ? upstream : (forkRpc as Rpc), proofParams(request))
            : options.withFork((rpc) => provePause(rpc, proofParams(request)))));
      onEvent({ kind: "proof", at: now(), proof });
      if (!proof.works) {
        onEvent({ kind: "resolved", at: now(), outcome: "not-sent", detail: proof.reason });
        return "not-sent";
      }
      if (active.has(request.incidentId)) return "not-sent";
      if (cachedNonce === undefined) await refreshNonce();
      let resolve: (outcome: Outcome) => void = () => {};
      const outcome = new Promise<Outcome>((r) => {
        resolve = r;
      });
      const a: Active = {
        request,
        onEvent,
        resolve,
        data,
        gas: (proof.pauseGasUsed * 13n) / 10n + 30_000n,
        nonce: cachedNonce ?? 0,
        signed: new Map(),
        coveredTo: request.context.number,
        firstBlock: request.context.number,
        publicSent: false,
        checking: false,
      };
      // The pause is signed while the record's first line is written: the line must be written
      // before the bundle leaves, not before the signature.
      const baseFee = request.context.baseFeePerGas ?? 0n;
      const signed = sign(a, baseFee);
      signed.catch(() => {}); // a failure is the first submission's (below)
      await beforeSend;
      if (active.has(request.incidentId)) return "not-sent";
      active.set(request.incidentId, a);
      submit(a, request.context.number, baseFee, signed).catch((error) => {
        finish(a, "failed", { detail: `could not send: ${describeError(error)}` });
      });
      return outcome;
    },
    onHead(head) {
      refreshNonce().catch((error) =>
        logger.warn({ err: describeError(error) }, "Failed to read the sentinel's nonce"),
      );
      for (const a of active.values()) {
        if (a.checking) continue;
        a.checking = true;
        check(a, head)
          .catch((error) =>
            logger.warn(
              { incident: a.request.incidentId, err: describeError(error) },
              "Failed to check response",
            ),
          )
          .finally(() => {
            a.checking = false;
          });
      }
    },
    async stop() {
      for (const a of [...active.values()]) finish(a, "failed", { detail: "the daemon stopped" });
      provider.destroy();
    },
  };
}
