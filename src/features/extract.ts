import type { Address } from "viem";
import type { Simulation } from "../simulate/types.ts";
import type { ProtocolBaseline } from "./baseline.ts";
import { detectFlashLoans } from "./flash-loan.ts";
import { protectedOutflows } from "./outflow.ts";
import { priceReadDeviation } from "./price-read.ts";
import { senderProfit } from "./profit.ts";
import { reserveSwings } from "./reserves.ts";
import { indexTrace, senderSide } from "./trace-index.ts";
import type { Features } from "./types.ts";

/**
 * Pure: from one simulation (and the sender) to the feature vector and its evidence. Nothing
 * here knows names or addresses of particular protocols: only the protected addresses the
 * simulation was run for, and mechanics (value flow, reads, borrow-and-repay, who profits).
 */
export function extractFeatures(sim: Simulation, from: Address, baseline?: ProtocolBaseline): Features {
  const index = indexTrace(sim);
  const side = senderSide(sim, index, from);
  const flash = detectFlashLoans(index, side);
  const out = protectedOutflows(sim, index);
  const profit = senderProfit(index, side, out.outflows);
  const price = priceReadDeviation(sim);
  const swings = reserveSwings(sim);
  const protectedSet = new Set(sim.protectedAddresses);
  const touched = [...index.executed].some((a) => protectedSet.has(a));
  const maxOutflow = out.outflows.reduce((m, o) => Math.max(m, o.fraction), 0);
  return {
    vector: {
      priceReadDeviation: price.deviation,
      protectedOutflowFraction: maxOutflow,
      protectedOutflowTokens: out.outflows.length,
      senderCaptureFraction: profit.captureFraction,
      senderProfitTokens: profit.profitTokens,
      flashLoan: flash.loans.length > 0 ? 1 : 0,
      flashLoanCount: flash.loans.length,
      maxReserveSwing: swings.maxSwing,
      reserveRoundTrip: swings.roundTrip,
      createdContracts: index.created.size,
      protectedTouched: touched ? 1 : 0,
      callDepth: index.maxDepth,
      reverted: sim.success ? 0 : 1,
      gasUsedM: Number(sim.gasUsed) / 1e6,
    },
    evidence: {
      priceReadDeviation: price.evidence,
      protectedOutflowFraction: out.evidence,
      senderCaptureFraction: profit.evidence,
      flashLoan: flash.evidence,
      maxReserveSwing: swings.evidence,
    },
    ...(baseline ? { baseline: baseline.deviation(sim.root, index) } : {}),
  };
}
