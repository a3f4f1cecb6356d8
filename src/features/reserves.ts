import { logsInOrder, SYNC_TOPIC } from "../simulate/simulate.ts";
import type { Simulation } from "../simulate/types.ts";
import type { Evidence } from "./types.ts";

function price(r0: bigint, r1: bigint): number {
  if (r0 === 0n) return 0;
  return Number((r1 * 10n ** 18n) / r0) / 1e18;
}

/**
 * How far V2-style pools (emitters of `Sync`) were pushed during the transaction relative to
 * their price before it, and how much of that push was undone by the end (pump and dump).
 */
export function reserveSwings(sim: Simulation): {
  maxSwing: number;
  roundTrip: number;
  evidence: Evidence[];
} {
  let maxSwing = 0;
  let roundTrip = 0;
  const evidence: Evidence[] = [];
  const syncs = logsInOrder(sim.root).filter(
    ({ log }) => log.topics[0] === SYNC_TOPIC && log.data.length >= 130,
  );
  for (const ref of sim.references.reserves) {
    const p0 = price(ref.reserve0, ref.reserve1);
    if (p0 === 0) continue;
    let swing = 0;
    let last = p0;
    const paths: number[][] = [];
    for (const { log, frame } of syncs) {
      if (log.address !== ref.pool) continue;
      const p = price(BigInt(`0x${log.data.slice(2, 66)}`), BigInt(`0x${log.data.slice(66, 130)}`));
      swing = Math.max(swing, Math.abs(p / p0 - 1));
      last = p;
      paths.push(frame.path);
    }
    const finalMove = Math.abs(last / p0 - 1);
    maxSwing = Math.max(maxSwing, swing);
    roundTrip = Math.max(roundTrip, Math.max(0, swing - finalMove));
    if (swing > 0.01) {
      evidence.push({
        frames: paths,
        detail: `pool ${ref.pool} price moved up to ${(swing * 100).toFixed(1)}% during the tx and ended ${(finalMove * 100).toFixed(1)}% away`,
      });
    }
  }
  return { maxSwing: Math.min(maxSwing, 100), roundTrip: Math.min(roundTrip, 100), evidence };
}
