import { type Address, getAddress, type Hex, type PublicClient, zeroAddress } from "viem";
import { Guardian } from "../contracts/generated/artifacts.ts";
import { InputError, RpcError } from "../internal/errors.ts";
import { table } from "../internal/table.ts";
import { DEFAULT_PAUSE_SELECTOR, DEFAULT_UNPAUSE_SELECTOR } from "./actions.ts";

/**
 * What the Guardian allows right now: who may pause what (sentinels and their budgets), what may
 * be paused (targets and selectors), what is paused (records, expiry, confirmation), and who
 * governs. Everything is read at one block, and times are compared with that block's timestamp,
 * as the Guardian itself does.
 */

export type SentinelStatus = {
  address: Address;
  budget: number;
  usedInWindow: number;
  left: number;
  /** Unix seconds at which the current window ends and usage resets. */
  windowEndsAt: number;
};

export type PauseState = "active" | "confirmed" | "expired";

export type PauseStatus = {
  target: Address;
  incidentId: Hex;
  sentinel: Address;
  pausedAt: number;
  expiresAt: number;
  confirmed: boolean;
  /** confirmed: held until governance lifts it; active: not yet expired; expired: anyone may lift it. */
  state: PauseState;
  /** What the target's own `paused()` says (null if it has none). */
  targetPaused: boolean | null;
};

export type TargetStatus = {
  address: Address;
  pauseSelector: Hex;
  unpauseSelector: Hex;
  pause: PauseStatus | null;
};

export type GuardianStatus = {
  guardian: Address;
  chainId: number;
  block: bigint;
  /** Unix seconds of `block`: "now" for expiries and windows. */
  timestamp: number;
  governance: Address;
  pendingGovernance: Address | null;
  maxPauseDurationSec: number;
  budgetWindowSec: number;
  sentinels: SentinelStatus[];
  targets: TargetStatus[];
  pauses: PauseStatus[];
};

const PAUSED_ABI = [
  {
    type: "function",
    name: "paused",
    stateMutability: "view",
    inputs: [],
    outputs: [{ name: "", type: "bool" }],
  },
] as const;

export async function readGuardianStatus(client: PublicClient, guardian: Address): Promise<GuardianStatus> {
  const address = getAddress(guardian);
  let block: { number: bigint; timestamp: bigint };
  let chainId: number;
  try {
    [block, chainId] = await Promise.all([client.getBlock({ blockTag: "latest" }), client.getChainId()]);
  } catch (error) {
    throw new RpcError("the node at --rpc did not answer", { hint: "check the --rpc URL", cause: error });
  }
  const blockNumber = block.number;
  const code = await client.getCode({ address, blockNumber });
  if (!code || code === "0x") {
    throw new InputError(`there is no contract at ${address} (--guardian) on chain ${chainId}`, {
      hint: "check the Guardian address and that --rpc points at the right chain",
    });
  }
  // biome-ignore lint/suspicious/noExplicitAny: one helper for every view of the generated ABI
  const read = (functionName: string, args: readonly unknown[] = []): Promise<any> =>
    client.readContract({ address, abi: Guardian.abi, functionName, args, blockNumber } as never);

  let governance: Address;
  let pending: Address;
  let maxPause: bigint;
  let window: bigint;
  let sentinelList: readonly Address[];
  let targetList: readonly Address[];
  try {
    [governance, pending, maxPause, window, sentinelList, targetList] = await Promise.all([
      read("governance"),
      read("pendingGovernance"),
      read("maxPauseDuration"),
      read("budgetWindow"),
      read("sentinels"),
      read("targets"),
    ]);
  } catch (error) {
    throw new InputError(`${address} (--guardian) does not answer as a Vigil Guardian`, {
      hint: "check the Guardian address",
      cause: error,
    });
  }
  const now = Number(block.timestamp);

  const sentinels = await Promise.all(
    sentinelList.map(async (s): Promise<SentinelStatus> => {
      const [budget, used, endsAt] = (await read("budgetOf", [s])) as [number, number, bigint];
      return {
        address: getAddress(s),
        budget: Number(budget),
        usedInWindow: Number(used),
        left: Math.max(0, Number(budget) - Number(used)),
        windowEndsAt: Number(endsAt),
      };
    }),
  );

  const targets = await Promise.all(
    targetList.map(async (t): Promise<TargetStatus> => {
      const [[pauseSelector, unpauseSelector], record] = (await Promise.all([
        read("targetConfig", [t]),
        read("pauseOf", [t]),
      ])) as [
        [Hex, Hex],
        { incidentId: Hex; sentinel: Address; pausedAt: bigint; expiresAt: bigint; confirmed: boolean },
      ];
      let pause: PauseStatus | null = null;
      if (record.sentinel !== zeroAddress) {
        const expiresAt = Number(record.expiresAt);
        const targetPaused = await client
          .readContract({ address: t, abi: PAUSED_ABI, functionName: "paused", blockNumber })
          .catch(() => null);
        pause = {
          target: getAddress(t),
          incidentId: record.incidentId,
          sentinel: getAddress(record.sentinel),
          pausedAt: Number(record.pausedAt),
          expiresAt,
          confirmed: record.confirmed,
          state: record.confirmed ? "confirmed" : now < expiresAt ? "active" : "expired",
          targetPaused,
        };
      }
      return { address: getAddress(t), pauseSelector, unpauseSelector, pause };
    }),
  );

  return {
    guardian: address,
    chainId,
    block: blockNumber,
    timestamp: now,
    governance: getAddress(governance),
    pendingGovernance: pending === zeroAddress ? null : getAddress(pending),
    maxPauseDurationSec: Number(maxPause),
    budgetWindowSec: Number(window),
    sentinels,
    targets,
    pauses: targets.flatMap((t) => (t.pause ? [t.pause] : [])),
  };
}

/** The status as plain JSON (the block number as a string). */
export function statusToJson(status: GuardianStatus): Record<string, unknown> {
  return { ...status, block: status.block.toString() };
}

// ---------------------------------------------------------------------------------------------
// Readable form
// ---------------------------------------------------------------------------------------------

/** `3600` -> `1h`, `90061` -> `1d 1h 1m 1s`. */
export function formatSeconds(total: number): string {
  if (total <= 0) return "0s";
  const parts: string[] = [];
  let rest = Math.floor(total);
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join(" ");
}

function time(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(".000Z", "Z");
}

function relative(unix: number, now: number): string {
  return unix >= now ? `in ${formatSeconds(unix - now)}` : `${formatSeconds(now - unix)} ago`;
}

/** The selector, named when it is the default pause() or unpause(). */
function selectorName(selector: Hex): string {
  if (selector === DEFAULT_PAUSE_SELECTOR) return `${selector} pause()`;
  if (selector === DEFAULT_UNPAUSE_SELECTOR) return `${selector} unpause()`;
  return selector;
}

export function formatGuardianStatus(s: GuardianStatus): string {
  const out: string[] = [];
  out.push(`Guardian ${s.guardian} on chain ${s.chainId}, block ${s.block} (${time(s.timestamp)})`, "");
  const facts: [string, string][] = [
    ["governance", s.governance],
    [
      "pending governance",
      s.pendingGovernance ? `${s.pendingGovernance} (must call acceptGovernance)` : "none",
    ],
    [
      "max pause duration",
      `${s.maxPauseDurationSec} s (${formatSeconds(s.maxPauseDurationSec)}): unconfirmed pauses expire after this`,
    ],
    ["budget window", `${s.budgetWindowSec} s (${formatSeconds(s.budgetWindowSec)})`],
  ];
  const w = Math.max(...facts.map(([k]) => k.length));
  for (const [k, v] of facts) out.push(`${k.padEnd(w)}  ${v}`);

  out.push("", `Sentinels: who may pause (${s.sentinels.length})`);
  if (s.sentinels.length === 0) out.push("  none: no key can pause anything");
  else
    out.push(
      ...table(
        ["address", "budget", "used", "left", "window ends"],
        s.sentinels.map((x) => [
          x.address,
          String(x.budget),
          String(x.usedInWindow),
          String(x.left),
          `${time(x.windowEndsAt)} (${relative(x.windowEndsAt, s.timestamp)})`,
        ]),
      ),
    );

  out.push("", `Targets: what may be paused (${s.targets.length})`);
  if (s.targets.length === 0) out.push("  none");
  else
    out.push(
      ...table(
        ["address", "pause selector", "unpause selector", "state"],
        s.targets.map((t) => [
          t.address,
          selectorName(t.pauseSelector),
          selectorName(t.unpauseSelector),
          t.pause ? `paused (${t.pause.state})` : "not paused",
        ]),
      ),
    );

  out.push("", `Pauses (${s.pauses.length})`);
  if (s.pauses.length === 0) out.push("  none");
  for (const p of s.pauses) {
    const state =
      p.state === "confirmed"
        ? "CONFIRMED: held until governance lifts it (lift-pause)"
        : p.state === "active"
          ? `ACTIVE: expires ${time(p.expiresAt)} (${relative(p.expiresAt, s.timestamp)}) unless confirmed`
          : `EXPIRED ${relative(p.expiresAt, s.timestamp)}: anyone may lift it; confirm-pause keeps it`;
    out.push(
      `  ${p.target}  ${state}`,
      `    incident ${p.incidentId}`,
      `    sentinel ${p.sentinel}, paused ${time(p.pausedAt)} (${relative(p.pausedAt, s.timestamp)})`,
      `    target reports paused(): ${p.targetPaused === null ? "no paused() view" : String(p.targetPaused)}`,
    );
  }
  return out.join("\n");
}
