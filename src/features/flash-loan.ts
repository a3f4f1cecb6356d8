import type { Address } from "viem";
import { type Flow, pathKey, type TraceIndex } from "./trace-index.ts";
import type { Evidence } from "./types.ts";

export type FlashLoan = {
  lender: Address;
  token: Address | "ETH";
  borrowed: bigint;
  repaid: bigint;
  path: number[];
};

/**
 * Borrow-and-repay by shape, whoever the lender is (ERC-3156, Uniswap V2/V3 flash swaps,
 * Aave `executeOperation`, Balancer `receiveFlashLoan`, ...): the sender's side calls a contract
 * L; inside that call, L (or code it runs) calls back into the sender's side; tokens flowed to
 * the sender's side from L's side before the callback, and at least as much of the same token
 * flowed back to L's side from the callback on, before the call to L returned.
 */
export function detectFlashLoans(
  index: TraceIndex,
  side: ReadonlySet<Address>,
): { loans: FlashLoan[]; evidence: Evidence[] } {
  const loans: FlashLoan[] = [];
  const evidence: Evidence[] = [];
  for (const f of index.frames) {
    if (!side.has(f.from) || side.has(f.to) || f.type === "STATICCALL" || f.type === "DELEGATECALL") continue;
    const outer = index.range.get(pathKey(f.path));
    if (!outer) continue;
    const callback = firstCallbackInto(f, side);
    if (!callback) continue;
    const cb = index.range.get(pathKey(callback.path));
    if (!cb) continue;
    // The lender's side: contracts whose code ran inside this call, outside the callback.
    const lenderSide = new Set<Address>();
    collectTargets(f, side, lenderSide);
    const before = index.flows.slice(outer[0], cb[0]);
    const after = index.flows.slice(cb[0], outer[1]);
    const borrowed = sumBy(before, (x) => lenderSide.has(x.from) && side.has(x.to));
    const repaid = sumBy(after, (x) => side.has(x.from) && lenderSide.has(x.to));
    for (const [token, amount] of borrowed) {
      const back = repaid.get(token) ?? 0n;
      if (amount > 0n && back >= amount) {
        loans.push({ lender: f.to, token, borrowed: amount, repaid: back, path: f.path });
        evidence.push({
          frames: [f.path, callback.path],
          detail: `borrowed ${amount} of ${token} from ${f.to} and repaid ${back} inside the same call (callback at ${pathKey(callback.path) || "root"})`,
        });
      }
    }
  }
  return { loans, evidence };
}

type FrameLike = {
  from: Address;
  to: Address;
  type: string;
  error: string | undefined;
  path: number[];
  calls: FrameLike[];
};

/** First frame in `f`'s subtree (not `f` itself) that calls from outside into the sender's side. */
function firstCallbackInto(f: FrameLike, side: ReadonlySet<Address>): FrameLike | undefined {
  for (const c of f.calls) {
    if (c.error) continue;
    if (!side.has(c.from) && side.has(c.to) && c.type !== "STATICCALL") return c;
    if (side.has(c.to)) continue; // do not descend into the sender's own code here
    const inner = firstCallbackInto(c, side);
    if (inner) return inner;
  }
  return undefined;
}

function collectTargets(f: FrameLike, side: ReadonlySet<Address>, out: Set<Address>): void {
  if (f.error) return;
  if (!side.has(f.to) && f.type !== "DELEGATECALL") out.add(f.to);
  // The callback's subtree is the borrower's code, not the lender's: stop there.
  for (const c of f.calls) if (!side.has(c.to)) collectTargets(c, side, out);
}

function sumBy(flows: readonly Flow[], keep: (f: Flow) => boolean): Map<Address | "ETH", bigint> {
  const m = new Map<Address | "ETH", bigint>();
  for (const f of flows) if (keep(f)) m.set(f.token, (m.get(f.token) ?? 0n) + f.amount);
  return m;
}
