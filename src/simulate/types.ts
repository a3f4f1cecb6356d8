import type { Address, Hex } from "viem";

/** One log emitted inside a call frame (callTracer `withLog`). */
export type TraceLog = {
  address: Address;
  topics: Hex[];
  data: Hex;
  /** Index among the frame's children at which the log was emitted. */
  position: number;
};

/** One frame of the call tree, as Geth's/Anvil's callTracer reports it (fields normalised). */
export type CallFrame = {
  /** Path from the root, e.g. [] for the root, [0, 2] for the third child of the first child. */
  path: number[];
  type: "CALL" | "STATICCALL" | "DELEGATECALL" | "CALLCODE" | "CREATE" | "CREATE2" | "SELFDESTRUCT" | string;
  from: Address;
  /** Created address for CREATE/CREATE2. */
  to: Address;
  input: Hex;
  output: Hex;
  value: bigint;
  gasUsed: bigint;
  /** Set when the frame reverted or failed. */
  error: string | undefined;
  revertReason: string | undefined;
  logs: TraceLog[];
  calls: CallFrame[];
};

/** Storage/balance/nonce/code of one account before or after (prestateTracer diffMode). */
export type AccountState = {
  balance?: bigint;
  nonce?: number;
  code?: Hex;
  storage?: Record<Hex, Hex>;
};

export type StateDiff = { pre: Record<Address, AccountState>; post: Record<Address, AccountState> };

/** One account's state to put in place of a fork's (geth's state-override format, hex values). */
export type AccountOverride = { balance?: Hex; nonce?: Hex; code?: Hex; stateDiff?: Record<Hex, Hex> };

/**
 * What a transaction touches (its access list) as it stood at one head. Overlaid on a fork a head
 * behind, the transaction runs as it would at that head: a contract deployed in the newest block
 * is there, with its storage, and so are the newest values of everything else it reads.
 */
export type StateOverlay = {
  head: bigint;
  /** An account given without `code` has the same code as at the head before, and some. */
  state: Record<Address, AccountOverride>;
  /**
   * The call's tree as the node traced it at `head` in the next block (a raw callTracer answer,
   * with logs), when asked for and the node could: a simulation with this overlay need not trace
   * it again.
   */
  callTree?: unknown;
};

/** The next-block context a pending transaction is simulated in. */
export type BlockContext = {
  number: bigint;
  timestamp: bigint;
  baseFeePerGas: bigint | null;
  parentHash: Hex;
};

/** A view call made during the transaction, with what it returned then and before the transaction. */
export type ReadReference = {
  /** Frame path of the read inside the trace. */
  path: number[];
  /** The protected contract on whose behalf (inside whose call subtree) the read happened. */
  protectedContext: Address;
  to: Address;
  input: Hex;
  /** What the read returned during the transaction. */
  during: Hex;
  /** What the same call returns on the state before the transaction (undefined if it failed). */
  before: Hex | undefined;
};

/** A token balance (or the native balance, "ETH") before the transaction. */
export type BalanceReference = { token: Address | "ETH"; holder: Address; before: bigint };

/** Reserves of a Uniswap-V2-style pool (an emitter of `Sync`) before the transaction. */
export type ReserveReference = { pool: Address; reserve0: bigint; reserve1: bigint };

export type Simulation = {
  txHash: Hex;
  context: BlockContext;
  success: boolean;
  error: string | undefined;
  gasUsed: bigint;
  root: CallFrame;
  /**
   * Balance and storage changes (prestateTracer, diff mode). Only collected when asked for
   * (`stateDiff: true`) and `enriched`: it costs a second run of the transaction, and what the
   * features need of it (native balances before) is in `references`. Empty otherwise.
   */
  stateDiff: StateDiff;
  /**
   * True when a protected contract was involved (its code ran or its tokens moved), and the
   * pre-transaction references were collected; false otherwise (nothing to compare).
   */
  enriched: boolean;
  references: {
    reads: ReadReference[];
    balances: BalanceReference[];
    reserves: ReserveReference[];
  };
  /** The protected addresses this simulation was enriched for. */
  protectedAddresses: Address[];
  durationMs: number;
  /** Time to the call tree (the first trace); the rest of `durationMs` is enrichment. */
  traceMs: number;
  /** Where the call tree was traced: on the fork, or by the node with the state read (`StateOverlay.callTree`). */
  tracedBy: "fork" | "node";
  /** How many of the references were read alongside the call tree, not asked for after it. */
  referencesReadAhead: number;
};
