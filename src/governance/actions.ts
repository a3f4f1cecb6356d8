import {
  type AbiFunction,
  type Address,
  encodeFunctionData,
  getAddress,
  type Hex,
  isAddress,
  toFunctionSelector,
  zeroAddress,
} from "viem";
import { Guardian } from "../contracts/generated/artifacts.ts";
import { InputError } from "../internal/errors.ts";
import type { BatchTransaction, ContractMethod } from "./batch.ts";

/**
 * Every Guardian setting governance can change, as a typed action: parsed and validated from
 * command-line words, then encoded as the Guardian call (the generated ABI, viem) together with
 * the Transaction Builder's readable form of it.
 */

/** Bounds of `maxPauseDuration` and `budgetWindow` (Guardian.MIN_DURATION / MAX_DURATION). */
export const MIN_DURATION_SEC = 60;
export const MAX_DURATION_SEC = 30 * 24 * 3600;
/** A sentinel budget is a uint32 greater than zero. */
export const MAX_BUDGET = 2 ** 32 - 1;

export const DEFAULT_PAUSE_SELECTOR = toFunctionSelector("pause()");
export const DEFAULT_UNPAUSE_SELECTOR = toFunctionSelector("unpause()");

export type GovernanceAction =
  | { kind: "add-sentinel"; sentinel: Address; budget: number }
  | { kind: "remove-sentinel"; sentinel: Address }
  | { kind: "set-budget"; sentinel: Address; budget: number }
  | { kind: "add-target"; target: Address; selectors?: { pause: Hex; unpause: Hex } }
  | { kind: "remove-target"; target: Address }
  | { kind: "set-max-pause"; seconds: number }
  | { kind: "set-budget-window"; seconds: number }
  | { kind: "confirm-pause"; target: Address }
  | { kind: "lift-pause"; target: Address }
  | { kind: "transfer-governance"; to: Address }
  | { kind: "accept-governance" };

export type ActionKind = GovernanceAction["kind"];

/** The actions, their arguments (for help texts) and what they do. */
export const ACTIONS: Record<ActionKind, { args: string[]; summary: string }> = {
  "add-sentinel": {
    args: ["address", "budget"],
    summary: "let a bot key pause targets, `budget` pauses per window",
  },
  "remove-sentinel": { args: ["address"], summary: "revoke a sentinel key" },
  "set-budget": {
    args: ["address", "budget"],
    summary: "change how many targets a sentinel may pause per window",
  },
  "add-target": {
    args: ["address"],
    summary: "register a contract the sentinels may pause (pause()/unpause() unless selectors given)",
  },
  "remove-target": { args: ["address"], summary: "deregister a target (lift its pause first)" },
  "set-max-pause": { args: ["seconds"], summary: "how long a new unconfirmed pause lasts (60 s .. 30 d)" },
  "set-budget-window": { args: ["seconds"], summary: "length of the sentinel budget window (60 s .. 30 d)" },
  "confirm-pause": { args: ["target"], summary: "confirm a pause: it no longer expires" },
  "lift-pause": { args: ["target"], summary: "lift the Guardian's pause and unpause the target" },
  "transfer-governance": {
    args: ["address"],
    summary: "propose a new governance (the zero address cancels a proposal)",
  },
  "accept-governance": { args: [], summary: "accept governance: run from the pending governance's Safe" },
};

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

/** A checksummed address, or an InputError naming what was expected. */
export function parseAddress(value: string, what: string, options: { allowZero?: boolean } = {}): Address {
  const v = value.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) {
    throw new InputError(`${what} must be a 20-byte hex address like 0xAbC… (got "${truncate(v)}")`);
  }
  if (!isAddress(v)) {
    throw new InputError(`${what} ${v} has a bad EIP-55 checksum`, {
      hint: "check the address for a typo, or write it all in lowercase if you are sure of it",
    });
  }
  const address = getAddress(v);
  if (address === zeroAddress && !options.allowZero)
    throw new InputError(`${what} must not be the zero address`);
  return address;
}

export function parseBudget(value: string, what = "budget"): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BUDGET) {
    throw new InputError(
      `${what} must be a whole number from 1 to ${MAX_BUDGET} (got "${truncate(value)}")`,
      {
        hint: "it is how many targets the sentinel may pause per budget window; the Guardian rejects 0",
      },
    );
  }
  return n;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, written as a number of seconds or with a unit: `90`, `90s`, `15m`, `12h`, `7d`. */
export function parseDuration(value: string, what: string): number {
  const m = /^(\d+)\s*([smhd]?)$/i.exec(value.trim());
  const seconds = m ? Number(m[1]) * (UNIT_SECONDS[(m[2] || "s").toLowerCase()] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(seconds)) {
    throw new InputError(`${what} must be a duration in seconds, like 3600 or 1h (got "${truncate(value)}")`);
  }
  if (seconds < MIN_DURATION_SEC || seconds > MAX_DURATION_SEC) {
    throw new InputError(
      `${what} must be from ${MIN_DURATION_SEC} s to ${MAX_DURATION_SEC} s (30 days), got ${seconds} s`,
      { hint: "these are the Guardian's MIN_DURATION and MAX_DURATION; it rejects anything outside" },
    );
  }
  return seconds;
}

/** A 4-byte selector, as hex (`0x8456cb59`) or as an argument-less signature (`pause()`). */
export function parseSelector(value: string, what: string): Hex {
  const v = value.trim();
  let selector: Hex;
  if (/^0x[0-9a-fA-F]{8}$/.test(v)) {
    selector = v.toLowerCase() as Hex;
  } else if (/^[A-Za-z_$][A-Za-z0-9_$]*\(\)$/.test(v)) {
    selector = toFunctionSelector(v);
  } else if (/^[A-Za-z_$][A-Za-z0-9_$]*\(.+\)$/.test(v)) {
    throw new InputError(`${what} must take no arguments (got "${truncate(v)}")`, {
      hint: "the Guardian calls pause and unpause selectors without arguments",
    });
  } else {
    throw new InputError(
      `${what} must be 4 bytes of hex like 0x8456cb59, or a signature like "pause()" (got "${truncate(v)}")`,
    );
  }
  if (selector === "0x00000000") throw new InputError(`${what} must not be 0x00000000`);
  return selector;
}

/**
 * The action named `kind` with its positional arguments and options, validated. Every problem is
 * an InputError that says what was expected.
 */
export function parseAction(
  kind: string,
  args: readonly string[],
  options: { pauseSelector?: string; unpauseSelector?: string } = {},
): GovernanceAction {
  if (!(kind in ACTIONS)) {
    throw new InputError(`unknown governance action "${truncate(kind)}"`, {
      hint: `use one of ${Object.keys(ACTIONS).join(", ")}`,
    });
  }
  const k = kind as ActionKind;
  const expected = ACTIONS[k].args;
  if (args.length !== expected.length) {
    throw new InputError(
      `${k} takes ${expected.length === 0 ? "no arguments" : expected.map((a) => `<${a}>`).join(" ")} (got ${args.length} argument${args.length === 1 ? "" : "s"})`,
    );
  }
  const a0 = args[0] ?? "";
  const a1 = args[1] ?? "";
  if (k !== "add-target" && (options.pauseSelector !== undefined || options.unpauseSelector !== undefined)) {
    throw new InputError("--pause-selector and --unpause-selector only apply to add-target");
  }
  switch (k) {
    case "add-sentinel":
      return { kind: k, sentinel: parseAddress(a0, "the sentinel"), budget: parseBudget(a1) };
    case "remove-sentinel":
      return { kind: k, sentinel: parseAddress(a0, "the sentinel") };
    case "set-budget":
      return { kind: k, sentinel: parseAddress(a0, "the sentinel"), budget: parseBudget(a1) };
    case "add-target": {
      const target = parseAddress(a0, "the target");
      const { pauseSelector: p, unpauseSelector: u } = options;
      if (p === undefined && u === undefined) return { kind: k, target };
      if (p === undefined || u === undefined) {
        throw new InputError(
          "give both --pause-selector and --unpause-selector, or neither (pause()/unpause())",
        );
      }
      const pause = parseSelector(p, "--pause-selector");
      const unpause = parseSelector(u, "--unpause-selector");
      if (pause === unpause) throw new InputError("--pause-selector and --unpause-selector must differ");
      return { kind: k, target, selectors: { pause, unpause } };
    }
    case "remove-target":
      return { kind: k, target: parseAddress(a0, "the target") };
    case "set-max-pause":
      return { kind: k, seconds: parseDuration(a0, "the pause duration") };
    case "set-budget-window":
      return { kind: k, seconds: parseDuration(a0, "the budget window") };
    case "confirm-pause":
      return { kind: k, target: parseAddress(a0, "the target") };
    case "lift-pause":
      return { kind: k, target: parseAddress(a0, "the target") };
    case "transfer-governance":
      return { kind: k, to: parseAddress(a0, "the new governance", { allowZero: true }) };
    case "accept-governance":
      return { kind: k };
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

export type GuardianCall = {
  functionName: string;
  args: readonly (string | number | bigint)[];
  data: Hex;
  /** One line a reviewer reads: `addSentinel(sentinel=0x…, budget=5)`. */
  description: string;
  contractMethod: ContractMethod;
  contractInputsValues: Record<string, string>;
};

/** The Guardian function and arguments of an action. */
function callOf(action: GovernanceAction): { functionName: string; args: (Address | Hex | number)[] } {
  switch (action.kind) {
    case "add-sentinel":
      return { functionName: "addSentinel", args: [action.sentinel, action.budget] };
    case "remove-sentinel":
      return { functionName: "removeSentinel", args: [action.sentinel] };
    case "set-budget":
      return { functionName: "setSentinelBudget", args: [action.sentinel, action.budget] };
    case "add-target":
      return action.selectors
        ? {
            functionName: "addTarget",
            args: [action.target, action.selectors.pause, action.selectors.unpause],
          }
        : { functionName: "addTarget", args: [action.target] };
    case "remove-target":
      return { functionName: "removeTarget", args: [action.target] };
    case "set-max-pause":
      return { functionName: "setMaxPauseDuration", args: [action.seconds] };
    case "set-budget-window":
      return { functionName: "setBudgetWindow", args: [action.seconds] };
    case "confirm-pause":
      return { functionName: "confirmPause", args: [action.target] };
    case "lift-pause":
      return { functionName: "liftPause", args: [action.target] };
    case "transfer-governance":
      return { functionName: "transferGovernance", args: [action.to] };
    case "accept-governance":
      return { functionName: "acceptGovernance", args: [] };
  }
}

/** The ABI entry for `functionName` with `arity` inputs (addTarget is overloaded). */
function abiFunction(functionName: string, arity: number): AbiFunction {
  const item = (Guardian.abi as readonly unknown[]).find(
    (x): x is AbiFunction =>
      (x as AbiFunction).type === "function" &&
      (x as AbiFunction).name === functionName &&
      (x as AbiFunction).inputs.length === arity,
  );
  if (!item) throw new Error(`the Guardian ABI has no ${functionName} with ${arity} inputs`);
  return item;
}

/** Encodes the action as a Guardian call (calldata plus the Transaction Builder's readable form). */
export function encodeAction(action: GovernanceAction): GuardianCall {
  const { functionName, args } = callOf(action);
  const fn = abiFunction(functionName, args.length);
  const data = encodeFunctionData({ abi: [fn], functionName, args: args as unknown[] });
  const values: Record<string, string> = {};
  fn.inputs.forEach((input, i) => {
    values[input.name ?? `arg${i}`] = String(args[i]);
  });
  return {
    functionName,
    args,
    data,
    description: `${functionName}(${Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")})`,
    contractMethod: {
      inputs: fn.inputs.map((input, i) => ({
        internalType: input.internalType ?? input.type,
        name: input.name ?? `arg${i}`,
        type: input.type,
      })),
      name: functionName,
      payable: false,
    },
    contractInputsValues: values,
  };
}

/** The call as one Transaction Builder transaction to the Guardian. */
export function batchTransaction(guardian: Address, call: GuardianCall): BatchTransaction {
  return {
    to: getAddress(guardian),
    value: "0",
    data: call.data,
    contractMethod: call.contractMethod,
    contractInputsValues: call.contractInputsValues,
  };
}

/** What the action does, in a sentence for the batch description and the terminal. */
export function explainAction(action: GovernanceAction): string {
  switch (action.kind) {
    case "add-sentinel":
      return `Add sentinel ${action.sentinel} with a budget of ${action.budget} pause(s) per window`;
    case "remove-sentinel":
      return `Remove sentinel ${action.sentinel}`;
    case "set-budget":
      return `Set the budget of sentinel ${action.sentinel} to ${action.budget} pause(s) per window`;
    case "add-target":
      return action.selectors
        ? `Add target ${action.target} (pause ${action.selectors.pause}, unpause ${action.selectors.unpause})`
        : `Add target ${action.target} (pause(), unpause())`;
    case "remove-target":
      return `Remove target ${action.target}`;
    case "set-max-pause":
      return `Set the duration of new unconfirmed pauses to ${action.seconds} s`;
    case "set-budget-window":
      return `Set the sentinel budget window to ${action.seconds} s`;
    case "confirm-pause":
      return `Confirm the pause of ${action.target} (it will no longer expire)`;
    case "lift-pause":
      return `Lift the pause of ${action.target} and unpause it`;
    case "transfer-governance":
      return action.to === zeroAddress
        ? "Cancel the pending governance transfer"
        : `Propose ${action.to} as the new governance (it must then accept)`;
    case "accept-governance":
      return "Accept governance of the Guardian";
  }
}

function truncate(s: string): string {
  return s.length > 50 ? `${s.slice(0, 47)}…` : s;
}
