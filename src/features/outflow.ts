import type { Address } from "viem";
import type { Simulation } from "../simulate/types.ts";
import { netByToken, ratio, type TraceIndex } from "./trace-index.ts";
import type { Evidence } from "./types.ts";

export type Outflow = {
  holder: Address;
  token: Address | "ETH";
  netOut: bigint;
  before: bigint;
  fraction: number;
};

/**
 * Value that left protected contracts, per (contract, token), net of what came in, as a share of
 * what the contract held before the transaction.
 */
export function protectedOutflows(
  sim: Simulation,
  index: TraceIndex,
): { outflows: Outflow[]; evidence: Evidence[] } {
  const outflows: Outflow[] = [];
  const evidence: Evidence[] = [];
  for (const holder of sim.protectedAddresses) {
    const net = netByToken(index.flows, new Set([holder]));
    for (const [token, n] of net) {
      if (n >= 0n) continue;
      const netOut = -n;
      const before =
        sim.references.balances.find((b) => b.token === token && b.holder === holder)?.before ?? 0n;
      const fraction = before > 0n ? Math.min(ratio(netOut, before), 1) : 1;
      outflows.push({ holder, token, netOut, before, fraction });
      const paths = index.flows.filter((f) => f.token === token && f.from === holder).map((f) => f.path);
      evidence.push({
        frames: paths,
        detail: `${holder} lost ${netOut} of ${token} net (${(fraction * 100).toFixed(1)}% of its ${before} before the tx)`,
      });
    }
  }
  return { outflows, evidence };
}
