import { constants as fsConstants, writeSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { Address, Hex } from "viem";
import { describeError, VigilError, type VigilErrorOptions } from "../internal/errors.ts";
import { canonicalJson, findSecretPath, type JsonValue, sha256Hex, toJsonValue } from "./canonical.ts";

export { canonicalJson, type JsonValue, sha256Hex, toJsonValue } from "./canonical.ts";

/**
 * Incident records: an append-only JSON-lines file where every line is chained to the one before.
 *
 * Line format (canonical JSON, keys sorted, one line per event, "\n"-terminated):
 *   {"event":{...},"hash":"<64 hex>","prevHash":"<64 hex>","seq":0,"v":1}
 * - `seq` counts lines from 0;
 * - `prevHash` is sha256 of the previous line's exact bytes (without its "\n"), 64 zeros for line 0;
 * - `hash` is sha256 of the canonical JSON of the line without the `hash` field.
 * An incident is never edited: updates (bundle sent, outcome) are new event lines for the same id.
 *
 * The chain shows any edit, deletion, insertion or reordering of lines, and a cut-short last line.
 * It cannot show that whole lines were removed from the END of the file: compare the head
 * (`{ seq, hash }` returned by `append` and by a verify) with a copy kept elsewhere (logs) for that.
 */

export const RECORD_FORMAT_VERSION = 1;
export const GENESIS_HASH = "0".repeat(64);

export type IncidentReason = { rule: string; contribution: number; detail: string };
export type IncidentOutcome =
  | "paused"
  | "attack-mined-first"
  | "attack-dropped"
  | "not-sent"
  | "failed"
  | "shadow";

export type IncidentOpened = {
  kind: "opened";
  incidentId: Hex;
  /** Epoch ms. */
  at: number;
  decision: "alert" | "pause";
  score: number;
  reasons: IncidentReason[];
  tx: { hash: Hex; from: Address; to: Address | null; raw?: Hex; nonce: number };
  targets: Address[];
  simulation: Record<string, unknown>;
  features: Record<string, unknown>;
  versions: { code: string; config: string; model: string };
  /** Milestones in ms (seen, simulated, scored, ...): the lead decides the names. */
  timings: Record<string, number>;
};
export type IncidentBundle = {
  kind: "bundle";
  incidentId: Hex;
  at: number;
  relay: string;
  targetBlock: string;
  bundleHash?: Hex;
  error?: string;
  pauseTxHash: Hex;
};
export type IncidentResolved = {
  kind: "resolved";
  incidentId: Hex;
  at: number;
  outcome: IncidentOutcome;
  includedBlock?: string;
  detail?: string;
  timings: Record<string, number>;
};
export type IncidentNote = { kind: "note"; incidentId: Hex; at: number; message: string };

export type IncidentEvent = IncidentOpened | IncidentBundle | IncidentResolved | IncidentNote;

const EVENT_KINDS = new Set<string>(["opened", "bundle", "resolved", "note"]);

/** One line of the file, as parsed back. Event payloads are plain JSON (bigints are strings). */
export type IncidentLine = { v: number; seq: number; prevHash: string; hash: string; event: IncidentEvent };

export type RecordErrorCode =
  | "secret"
  | "invalid-event"
  | "broken-chain"
  | "locked"
  | "closed"
  | "write-failed"
  | "not-found";

/** The incident record cannot be written or read as asked. */
export class RecordError extends VigilError {
  override name = "RecordError";
  readonly code: RecordErrorCode;

  constructor(code: RecordErrorCode, shortMessage: string, options: VigilErrorOptions = {}) {
    super(shortMessage, options);
    this.code = code;
  }
}

export type IncidentLog = {
  /**
   * Appends one event line. Calls are written in the order they were made, even when not awaited.
   * Rejects with a RecordError (nothing written) when the event holds something that looks like a
   * private key, or is not an incident event.
   */
  append(event: IncidentEvent): Promise<{ seq: number; hash: string }>;
  /** The last line written: seq -1 and the genesis hash for an empty file. */
  head(): { seq: number; hash: string };
  /** Waits for pending appends, closes the file and releases the lock. Idempotent. */
  close(): Promise<void>;
};

/**
 * Opens (creating it and its directory if needed) an incident record for appending. The whole
 * existing file is verified first: a broken chain is refused, because appending to it would make
 * the new lines look trustworthy. A `<path>.lock` file (holding our pid) keeps a second process
 * from interleaving lines; a lock left by a dead process is taken over.
 *
 * `fsync: true` flushes each line to disk before `append` resolves (a few ms per line; off by
 * default because the first line is written on the way to a pause).
 */
export async function createIncidentLog(
  path: string,
  options: { fsync?: boolean } = {},
): Promise<IncidentLog> {
  await mkdir(dirname(path), { recursive: true });
  const lockPath = `${path}.lock`;
  await acquireLock(lockPath, path);

  let handle: FileHandle;
  let nextSeq: number;
  let prevHash: string;
  let headHash: string;
  try {
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o644);
    const bytes = await readFile(path);
    const checked = checkChain(bytes);
    if (!checked.result.ok) {
      await handle.close();
      const { badLine, problem, lines } = checked.result;
      throw new RecordError("broken-chain", `The incident record ${path} has a broken hash chain`, {
        details: [`line ${badLine} of ${lines}: ${problem}`],
        hint:
          `refusing to append to it. Keep the file as evidence, inspect it with \`vigil verify-records ${path}\`, ` +
          "then move it aside (rename it) and start a new record file.",
      });
    }
    nextSeq = checked.result.lines;
    prevHash = checked.lastLine ? sha256Hex(checked.lastLine) : GENESIS_HASH;
    headHash = checked.lastHash ?? GENESIS_HASH;
  } catch (error) {
    await rm(lockPath, { force: true });
    throw error;
  }

  let tail: Promise<unknown> = Promise.resolve();
  let closed: Promise<void> | undefined;
  let failure: unknown;

  async function write(event: JsonValue): Promise<{ seq: number; hash: string }> {
    if (failure !== undefined) {
      throw new RecordError("write-failed", `The incident record ${path} is unusable after a failed write`, {
        details: [describeError(failure)],
        hint: `check the disk, run \`vigil verify-records ${path}\`, and restart`,
        cause: failure,
      });
    }
    const body = { v: RECORD_FORMAT_VERSION, seq: nextSeq, prevHash, event };
    const hash = sha256Hex(canonicalJson(body));
    const line = canonicalJson({ ...body, hash });
    const bytes = Buffer.from(`${line}\n`, "utf8");
    try {
      // One write of the whole line: with O_APPEND it lands at the end in one piece. Without
      // fsync it is written at once (a few tens of µs into the page cache): the asynchronous
      // write's trip through the thread pool and back took ~2 ms under load, on the way to a
      // pause's bundle (which waits for the incident's first line).
      const bytesWritten = options.fsync
        ? (await handle.write(bytes, 0, bytes.length)).bytesWritten
        : writeSync(handle.fd, bytes, 0, bytes.length);
      if (bytesWritten !== bytes.length)
        throw new Error(`short write: ${bytesWritten} of ${bytes.length} bytes`);
      if (options.fsync) await handle.sync();
    } catch (error) {
      failure = error;
      throw new RecordError("write-failed", `Could not write to the incident record ${path}`, {
        details: [describeError(error)],
        hint: `check the disk (space, permissions), run \`vigil verify-records ${path}\`, and restart`,
        cause: error,
      });
    }
    const seq = nextSeq;
    nextSeq += 1;
    prevHash = sha256Hex(line);
    headHash = hash;
    return { seq, hash };
  }

  return {
    append(event) {
      if (closed) return Promise.reject(new RecordError("closed", `The incident record ${path} is closed`));
      let json: JsonValue;
      try {
        json = prepareEvent(event);
      } catch (error) {
        return Promise.reject(error);
      }
      const result = tail.then(() => write(json));
      tail = result.catch(() => {});
      return result;
    },
    head() {
      return { seq: nextSeq - 1, hash: headHash };
    },
    close() {
      closed ??= (async () => {
        await tail;
        try {
          await handle.close();
        } finally {
          await rm(lockPath, { force: true });
        }
      })();
      return closed;
    },
  };
}

/** Checks an event before it is queued: shape, and no private key anywhere in it. */
function prepareEvent(event: IncidentEvent): JsonValue {
  let json: JsonValue;
  try {
    json = toJsonValue(event);
  } catch (error) {
    throw new RecordError("invalid-event", "The incident event cannot be converted to JSON", {
      details: [describeError(error)],
      cause: error,
    });
  }
  const problem = eventProblem(json);
  if (problem) throw new RecordError("invalid-event", `The incident event is invalid: ${problem}`);
  const secretPath = findSecretPath(json);
  if (secretPath) {
    throw new RecordError(
      "secret",
      "Refused to record an incident event that holds what looks like a private key",
      {
        details: [`field: ${secretPath}`],
        hint: "never pass keys, secrets, passwords or mnemonics into incident events; remove that field",
      },
    );
  }
  return json;
}

function eventProblem(json: JsonValue): string | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return "not an object";
  if (typeof json.kind !== "string" || !EVENT_KINDS.has(json.kind)) {
    return `kind must be one of ${[...EVENT_KINDS].join(", ")}`;
  }
  if (typeof json.incidentId !== "string" || !/^0x[0-9a-fA-F]+$/.test(json.incidentId)) {
    return "incidentId must be 0x-hex";
  }
  if (typeof json.at !== "number") return "at must be a number (epoch ms)";
  return undefined;
}

async function acquireLock(lockPath: string, path: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const lock = await open(lockPath, "wx", 0o644);
      try {
        await lock.writeFile(`${process.pid}\n`);
      } finally {
        await lock.close();
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
      throw new RecordError("locked", `The incident record ${path} is already open in process ${owner}`, {
        details: [`lock file: ${lockPath}`],
        hint: "give each running Vigil its own record file (two writers would break the hash chain)",
      });
    }
    // Left by a process that is gone (or unreadable): take it over.
    await rm(lockPath, { force: true });
  }
  throw new RecordError("locked", `Could not take the lock ${lockPath} for the incident record ${path}`, {
    hint: "another process keeps creating it; give each running Vigil its own record file",
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type VerifyResult =
  | {
      ok: true;
      lines: number;
      incidents: number;
      /** The last line (seq, hash), null for an empty file: keep it elsewhere to detect a cut tail. */
      head: { seq: number; hash: string } | null;
    }
  /** `badLine` is 1-based (line 1 is seq 0): the first line that cannot be trusted. */
  | { ok: false; lines: number; badLine: number; problem: string };

/** Recomputes every hash and every prevHash link of an incident record. */
export async function verifyIncidentLog(path: string): Promise<VerifyResult> {
  return checkChain(await readRecordFile(path)).result;
}

async function readRecordFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new RecordError("not-found", `There is no incident record at ${path}`, {
        hint: "check the path (the daemon's `record.path` setting)",
      });
    }
    throw error;
  }
}

/** Splits on "\n" at the byte level: hashes cover exact bytes, whatever their encoding. */
function splitLines(bytes: Buffer): { lines: Buffer[]; complete: boolean } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return { lines, complete: start === bytes.length };
}

function checkChain(bytes: Buffer): {
  result: VerifyResult;
  lastLine?: Buffer;
  lastHash?: string;
  parsed: IncidentLine[];
} {
  const { lines, complete } = splitLines(bytes);
  const total = lines.length;
  const parsed: IncidentLine[] = [];
  const ids = new Set<string>();
  let prevHash = GENESIS_HASH;
  let lastHash: string | undefined;
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    const bad = (problem: string) => ({
      result: { ok: false as const, lines: total, badLine: lineNo, problem },
      parsed,
    });
    if (!complete && index === total - 1) {
      return bad(
        "the last line is incomplete (no newline at its end): the file was cut short or a write was torn",
      );
    }
    const text = raw.toString("utf8");
    if (text.length === 0) return bad("the line is empty");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return bad("the line is not valid JSON");
    }
    const line = asLine(value);
    if (!line) return bad("the line is not an incident record (needs v, seq, prevHash, hash and an event)");
    if (line.seq !== index) {
      return bad(`seq is ${line.seq}, expected ${index}: a line was deleted, inserted or moved here`);
    }
    if (line.prevHash !== prevHash) {
      return bad(
        "prevHash does not match the previous line: that line was edited, or lines were removed or moved",
      );
    }
    const { hash, ...body } = line;
    if (sha256Hex(canonicalJson(body)) !== hash)
      return bad("hash does not match the line's content: the line was edited");
    if (canonicalJson(line) !== text) return bad("the line is not in canonical form: it was rewritten");
    const problem = eventProblem(line.event as unknown as JsonValue);
    if (problem) return bad(`the event is invalid: ${problem}`);
    parsed.push(line);
    ids.add(line.event.incidentId.toLowerCase());
    prevHash = sha256Hex(raw);
    lastHash = hash;
  }
  const head = lastHash === undefined ? null : { seq: total - 1, hash: lastHash };
  const last = lines.at(-1);
  return {
    result: { ok: true, lines: total, incidents: ids.size, head },
    parsed,
    ...(last ? { lastLine: last } : {}),
    ...(lastHash ? { lastHash } : {}),
  };
}

function asLine(value: unknown): IncidentLine | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.v !== "number" || typeof v.seq !== "number" || !Number.isInteger(v.seq)) return undefined;
  if (typeof v.prevHash !== "string" || typeof v.hash !== "string") return undefined;
  if (v.event === null || typeof v.event !== "object") return undefined;
  return value as IncidentLine;
}

/** One incident with all its events folded together (payloads as stored: bigints are strings). */
export type IncidentSummary = {
  incidentId: Hex;
  status: "open" | "resolved";
  /** The "opened" event; absent only when the file holds later events of an id without it. */
  opened?: Omit<IncidentOpened, "kind" | "incidentId">;
  bundles: Omit<IncidentBundle, "kind" | "incidentId">[];
  notes: Omit<IncidentNote, "kind" | "incidentId">[];
  /** The last "resolved" event. */
  resolved?: Omit<IncidentResolved, "kind" | "incidentId">;
  outcome?: IncidentOutcome;
  /** The opened timings, then the resolved timings on top. */
  timings: Record<string, number>;
  firstAt: number;
  lastAt: number;
  /** The seq of every line of this incident, in order. */
  seqs: number[];
};

/**
 * Reads an incident record and folds its events by incident id, in order of first appearance.
 * The chain is verified first; a broken record throws unless `allowBroken` is set, in which case
 * only the lines before the first bad one are read.
 */
export async function readIncidents(
  path: string,
  options: { allowBroken?: boolean } = {},
): Promise<IncidentSummary[]> {
  const { result, parsed } = checkChain(await readRecordFile(path));
  if (!result.ok && !options.allowBroken) {
    throw new RecordError("broken-chain", `The incident record ${path} has a broken hash chain`, {
      details: [`line ${result.badLine} of ${result.lines}: ${result.problem}`],
      hint: `inspect it with \`vigil verify-records ${path}\``,
    });
  }
  const byId = new Map<string, IncidentSummary>();
  for (const { seq, event } of parsed) {
    const key = event.incidentId.toLowerCase();
    let summary = byId.get(key);
    if (!summary) {
      summary = {
        incidentId: event.incidentId,
        status: "open",
        bundles: [],
        notes: [],
        timings: {},
        firstAt: event.at,
        lastAt: event.at,
        seqs: [],
      };
      byId.set(key, summary);
    }
    summary.seqs.push(seq);
    summary.firstAt = Math.min(summary.firstAt, event.at);
    summary.lastAt = Math.max(summary.lastAt, event.at);
    switch (event.kind) {
      case "opened": {
        const { kind: _k, incidentId: _i, ...rest } = event;
        summary.opened = rest;
        summary.timings = { ...rest.timings, ...summary.timings };
        break;
      }
      case "bundle": {
        const { kind: _k, incidentId: _i, ...rest } = event;
        summary.bundles.push(rest);
        break;
      }
      case "note": {
        const { kind: _k, incidentId: _i, ...rest } = event;
        summary.notes.push(rest);
        break;
      }
      case "resolved": {
        const { kind: _k, incidentId: _i, ...rest } = event;
        summary.resolved = rest;
        summary.outcome = rest.outcome;
        summary.status = "resolved";
        summary.timings = { ...summary.timings, ...rest.timings };
        break;
      }
    }
  }
  return [...byId.values()];
}
