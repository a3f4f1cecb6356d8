import type { Address, Hex } from "viem";
import type { Features } from "./features/types.ts";
import { describeError } from "./internal/errors.ts";
import type { Logger } from "./internal/logger.ts";
import type { DaemonMetrics } from "./internal/metrics.ts";
import type { Rpc } from "./internal/rpc.ts";
import type { Alerter } from "./record/alerts.ts";
import type { IncidentLog, IncidentOutcome } from "./record/incidents.ts";
import type { Proof } from "./respond/prove.ts";
import type { Outcome, Responder, ResponseEvent } from "./respond/responder.ts";
import type { Verdict } from "./score/types.ts";
import type { BlockContext, Simulation, StateOverlay } from "./simulate/types.ts";
import type { PendingTx } from "./source/types.ts";

/**
 * The last two stages for one decision at or above the alert level: the incident record's first
 * line, the alert, and for a pause the response (proof, bundles, inclusion) followed to its end,
 * with every step written to the record. The guardian hands each decision here and gets its
 * worker back as soon as the first bundle is out: following a pause until it lands takes blocks.
 */

/** Milestones of one transaction, ms since the source first saw it. */
export type Timings = {
  seenAt: number;
  /**
   * How long after the newest head (as the daemon knew it when a worker took the transaction) it
   * was first seen: negative if that head came after it. Its answers from the node come slower
   * right after a head (the node is busy with the new block).
   */
  sinceHeadMs?: number;
  /** When a worker took it from the queue, and when it had a fork at the head. */
  dequeuedMs?: number;
  /**
   * When what a dangerous call to a new or cold contract needs had been read at the newest head:
   * its call tree (to be screened on the node), or the state it touches (to be overlaid on a
   * fork). Only those; the fork is acquired after it.
   */
  stateReadMs?: number;
  forkMs?: number;
  /** When its simulation started (on the fork, in its block's context). */
  simulatingMs?: number;
  simulatedMs?: number;
  scoredMs?: number;
  /** When the pause was proved to stop the attack (or found not to). */
  provedMs?: number;
  /** When the incident record's first line was written (no bundle leaves before it). */
  recordedMs?: number;
  /** When the first accepted bundle's request started. */
  bundleSentMs?: number;
  /** When the relay acknowledged it. */
  bundleAckMs?: number;
  resolvedMs?: number;
};

export type Decided = {
  tx: PendingTx;
  verdict: Verdict;
  features: Features;
  simulation: Pick<
    Simulation,
    "success" | "error" | "gasUsed" | "durationMs" | "traceMs" | "tracedBy" | "referencesReadAhead"
  > & {
    block: bigint;
    /**
     * Set when the transaction ran on a fork at `forkHead` (a head behind) with the state it
     * touches overlaid as it stood at the block before `block`: how many accounts that was.
     */
    overlaid?: { forkHead: bigint; accounts: number };
    /** Set when it was simulated on the node itself, at the block before `block` (no fork). */
    atNode?: true;
  };
  targets: Address[];
  incidentId: Hex | undefined;
  timings: Timings;
};

export type Resolved = {
  incidentId: Hex;
  tx: PendingTx;
  outcome: IncidentOutcome;
  includedBlock?: bigint;
  timings: Timings;
};

export type IncidentDeps = {
  chainId: number;
  recordPath: string;
  /** Record and alert only: no pause is ever sent. */
  shadow: boolean;
  versions: { code: string; config: string; model: string };
  record: IncidentLog;
  alerter: Alerter;
  responder: Responder;
  metrics: DaemonMetrics;
  logger: Logger;
  /** A transaction's signed bytes, for a self-contained record (null when unknown). */
  rawOf: (tx: PendingTx) => Promise<Hex | null>;
  onResponse: (incidentId: Hex, e: ResponseEvent) => void;
  onResolved: (r: Resolved) => void;
  /** Counted: a follow-up that failed after its worker moved on. */
  onFailure: () => void;
};

/** One decision with an incident id, and what its response may use. */
export type IncidentCase = {
  decided: Decided & { incidentId: Hex };
  /** Next-block context the transaction was simulated in. */
  context: BlockContext;
  /** The sender's pending transactions the simulation ran after (the proof runs them too). */
  ranAfter?: readonly PendingTx[];
  /** State the simulation ran with in place of its fork's (the proof runs with it too). */
  overlay?: StateOverlay;
  /** The block the simulation ran at on the node itself, if it did (the proof runs there too). */
  atNode?: bigint;
  /** A proof already started on the call tree (its targets match). */
  speculated?: Promise<Proof>;
  /** The simulation's fork, still held and at the attack's state (read-only proof calls). */
  forkRpc?: Rpc;
  /** Gives the simulation's fork back (once proved, or before a proof that needs its own). */
  release: () => void;
  /** Ends the transaction's urgency hold: what is left only waits for relays and blocks. */
  settled: () => void;
};

export type IncidentHandler = {
  /**
   * Records, alerts and (for a pause) responds. Resolves once the worker may move on: for an
   * alert when its first line is written, for a pause once its first bundle is out or its proof
   * refused it; the rest is followed in the background.
   */
  handle(c: IncidentCase): Promise<void>;
  /** Pauses still followed. */
  following(): number;
  /** Resolves when every pause followed has ended (the responder's stop ends them). */
  settled(): Promise<void>;
};

export function createIncidentHandler(deps: IncidentDeps): IncidentHandler {
  const { record, alerter, responder, metrics, logger } = deps;
  const following = new Set<Promise<void>>();
  const now = () => performance.timeOrigin + performance.now();
  const reasonsOf = (verdict: Verdict) =>
    verdict.reasons.map(({ rule, contribution, detail }) => ({ rule, contribution, detail }));

  async function handle(c: IncidentCase): Promise<void> {
    const { tx, verdict, features, targets, incidentId, timings } = c.decided;
    const pause = verdict.decision === "pause";
    logger[pause ? "warn" : "info"](
      {
        incident: incidentId,
        tx: tx.hash,
        score: Number(verdict.score.toFixed(3)),
        decision: verdict.decision,
        reasons: verdict.reasons.map((r) => r.rule),
      },
      pause ? "Detected attack" : "Raised alert",
    );
    // The record's first line must be written before any bundle leaves, but it need not delay
    // the proof: it is written alongside, and the responder waits for it before sending.
    const opened = (async () => {
      // The raw bytes make the record self-contained (replayable with `vigil simulate`).
      const raw = await deps.rawOf(tx);
      await record.append({
        kind: "opened",
        incidentId,
        at: Date.now(),
        decision: pause ? "pause" : "alert",
        score: verdict.score,
        reasons: reasonsOf(verdict),
        tx: { hash: tx.hash, from: tx.from, to: tx.to, nonce: tx.nonce, ...(raw ? { raw } : {}) },
        targets,
        simulation: {
          ...c.decided.simulation,
          evidence: verdict.reasons.flatMap((r) => r.evidence.slice(0, 3)),
        },
        features: { ...features.vector },
        versions: deps.versions,
        timings: { ...timings },
      });
      timings.recordedMs = now() - tx.seenAt;
    })();
    alerter.notify({
      chainId: deps.chainId,
      incidentId,
      severity: pause ? "pause" : "alert",
      title: pause
        ? `Attack on ${targets.join(", ")}: pausing`
        : `Suspicious transaction touching ${targets.join(", ")}`,
      score: verdict.score,
      reasons: reasonsOf(verdict),
      txHash: tx.hash,
      targets,
      recordPath: deps.recordPath,
      at: Date.now(),
    });
    if (!pause) {
      await opened;
      return;
    }

    let includedBlock: bigint | undefined;
    /** The incident's last line, alert and listeners, once its outcome is known. */
    const finish = async (outcome: IncidentOutcome) => {
      timings.resolvedMs = now() - tx.seenAt;
      await record.append({
        kind: "resolved",
        incidentId,
        at: Date.now(),
        outcome,
        ...(includedBlock !== undefined ? { includedBlock: includedBlock.toString() } : {}),
        timings: { ...timings },
      });
      alerter.notify({
        chainId: deps.chainId,
        incidentId,
        severity: "pause",
        title: `Incident ${outcome}`,
        score: verdict.score,
        reasons: reasonsOf(verdict),
        txHash: tx.hash,
        targets,
        outcome,
        recordPath: deps.recordPath,
        at: Date.now(),
      });
      deps.onResolved({
        incidentId,
        tx,
        outcome,
        ...(includedBlock !== undefined ? { includedBlock } : {}),
        timings,
      });
    };
    if (deps.shadow) {
      await opened;
      await finish("shadow");
      return;
    }

    // The worker moves on once the first bundle is out (or the proof refused the pause).
    let out: () => void = () => {};
    const sent = new Promise<void>((resolve) => {
      out = resolve;
    });
    const onEvent = (e: ResponseEvent) => {
      if (e.kind === "proof") {
        c.release();
        timings.provedMs = e.at - tx.seenAt;
      }
      deps.onResponse(incidentId, e);
      if (e.kind === "bundle") {
        c.settled();
        out();
        const first = timings.bundleSentMs === undefined && !e.error;
        if (first) {
          timings.bundleSentMs = e.sentAt - tx.seenAt;
          timings.bundleAckMs = e.at - tx.seenAt;
        }
        metrics.recordBundle({
          relay: e.relay,
          ...(e.error ? { error: e.error } : {}),
          ...(first ? { sinceSeenMs: e.sentAt - tx.seenAt } : {}),
        });
        void record.append({
          kind: "bundle",
          incidentId,
          at: Date.now(),
          relay: e.relay,
          targetBlock: e.targetBlock.toString(),
          pauseTxHash: e.pauseTxHash,
          ...(e.bundleHash ? { bundleHash: e.bundleHash } : {}),
          ...(e.error ? { error: e.error } : {}),
        });
      } else if (e.kind === "proof" && !e.proof.works) {
        c.settled();
        out();
        const message = `pause not sent: ${e.proof.reason}`;
        void opened.then(() => record.append({ kind: "note", incidentId, at: Date.now(), message }));
      } else if (e.kind === "resolved" && e.includedBlock !== undefined) {
        includedBlock = e.includedBlock;
      }
    };
    // Proving on the simulation's own fork (still held) avoids waiting for another one. A proof
    // that mines (predecessors first) needs a fork to itself: give this one back first, or with
    // a single fork it would wait for ourselves.
    if (c.ranAfter) c.release();
    const follow = (async () => {
      const outcome: Outcome = await responder.respond(
        {
          incidentId,
          attack: tx,
          targets,
          context: c.context,
          ...(c.ranAfter ? { before: c.ranAfter } : {}),
          ...(c.overlay ? { state: c.overlay.state } : {}),
          ...(c.atNode !== undefined ? { atNode: c.atNode } : {}),
        },
        onEvent,
        {
          ...(c.ranAfter || !c.forkRpc ? {} : { forkRpc: c.forkRpc }),
          ...(c.speculated ? { proof: c.speculated } : {}),
          beforeSend: opened,
        },
      );
      await opened;
      metrics.recordOutcome(outcome);
      await finish(outcome);
    })();
    let detached = false;
    const followed: Promise<void> = follow.then(
      () => {},
      (error: unknown) => {
        // Before the worker moved on, its own error handling reports it.
        if (!detached) return;
        deps.onFailure();
        logger.error({ incident: incidentId, err: describeError(error) }, "Failed to follow a pause");
      },
    );
    following.add(followed);
    void followed.finally(() => following.delete(followed));
    await Promise.race([follow, sent]);
    detached = true;
  }

  return {
    handle,
    following: () => following.size,
    settled: async () => {
      await Promise.allSettled([...following]);
    },
  };
}
