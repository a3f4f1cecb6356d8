/**
 * Typed errors. Each has a short message, optional detail lines, and a `hint` saying what to do
 * next. Messages never include secrets: callers pass addresses and hashes, never keys.
 */
export type VigilErrorOptions = {
  /** What the user can do about it. */
  hint?: string;
  /** Extra context, one fact per line. */
  details?: readonly string[];
  cause?: unknown;
};

export class VigilError extends Error {
  override name = "VigilError";
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(shortMessage: string, options: VigilErrorOptions = {}) {
    const lines = [shortMessage];
    if (options.details?.length) lines.push("", ...options.details.map((d) => `  ${d}`));
    if (options.hint) lines.push("", `What to do: ${options.hint}`);
    super(lines.join("\n"), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** A child process (Anvil) could not be started or stopped. */
export class ProcessError extends VigilError {
  override name = "ProcessError";
}

/** A JSON-RPC node answered with an error or with something we did not expect. */
export class RpcError extends VigilError {
  override name = "RpcError";
  /** The JSON-RPC error code, when the node answered with one. */
  readonly code: number | undefined;
  /** The JSON-RPC error data (revert data for `execution reverted`). */
  readonly data: unknown;

  constructor(shortMessage: string, options: VigilErrorOptions & { code?: number; data?: unknown } = {}) {
    super(shortMessage, options);
    this.code = options.code;
    this.data = options.data;
  }
}

/** A transaction we sent reverted or was not mined. */
export class TransactionFailedError extends VigilError {
  override name = "TransactionFailedError";
}

/** Input from a user or a client (CLI flag, JSON-RPC request) is invalid. */
export class InputError extends VigilError {
  override name = "InputError";
}

/** Short description of any thrown value, for logs. */
export function describeError(error: unknown): string {
  if (error instanceof VigilError) return error.shortMessage;
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  return String(error);
}
