import type { Address } from "viem";
import type { Outflow } from "./outflow.ts";
import { netByToken, ratio, type TraceIndex } from "./trace-index.ts";
import type { Evidence } from "./types.ts";

/**
 * What the sender's side (sender, contracts it created or called) gained, and how much of the
 * value that left protected contracts it captured.
 */
export function senderProfit(
  index: TraceIndex,
  side: ReadonlySet<Address>,
  outflows: readonly Outflow[],
): { captureFraction: number; profitTokens: number; evidence: Evidence[] } {
  const net = netByToken(index.flows, side);
  const evidence: Evidence[] = [];
  let profitTokens = 0;
  for (const [token, n] of net) {
    if (n > 0n) {
      profitTokens++;
      const paths = index.flows
        .filter((f) => f.token === token && side.has(f.to) && !side.has(f.from))
        .map((f) => f.path);
      evidence.push({ frames: paths, detail: `sender's side gained ${n} of ${token}` });
    }
  }
  let captureFraction = 0;
  for (const o of outflows) {
    if (o.fraction < 0.01) continue; // dust moves say nothing
    const gained = net.get(o.token) ?? 0n;
    if (gained <= 0n) continue;
    captureFraction = Math.max(captureFraction, Math.min(1, ratio(gained, o.netOut)));
  }
  return { captureFraction, profitTokens, evidence };
}
