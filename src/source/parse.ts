import { type Address, getAddress, type Hex } from "viem";
import type { Head, PendingTx } from "./types.ts";

/**
 * Pure parsers for what a node sends: pending transaction objects (from `eth_subscribe
 * newPendingTransactions true` and from `txpool_content`) and block headers (`newHeads`,
 * `eth_getBlockByNumber`). The node is outside our trust boundary: a field that is missing or not
 * the hex we expect makes the whole object malformed, with a reason, instead of a half-filled
 * object reaching the simulator.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Thrown inside a parser to abort it with a reason; never escapes this module. */
class FieldError extends Error {}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(obj: Fields, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function quantity(obj: Fields, name: string): bigint {
  const v = field(obj, name);
  if (typeof v !== "string" || !QUANTITY.test(v)) throw new FieldError(`${name} is not a hex quantity`);
  return BigInt(v);
}

function optionalQuantity(obj: Fields, name: string): bigint | undefined {
  const v = field(obj, name);
  return v === undefined || v === null ? undefined : quantity(obj, name);
}

function smallNumber(obj: Fields, name: string): number {
  const n = quantity(obj, name);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new FieldError(`${name} is too large`);
  return Number(n);
}

function hash(obj: Fields, name: string): Hex {
  const v = field(obj, name);
  if (typeof v !== "string" || !HASH.test(v)) throw new FieldError(`${name} is not a 32-byte hash`);
  return v.toLowerCase() as Hex;
}

/** Checksummed, so that downstream stages can compare addresses with `===`. */
function address(obj: Fields, name: string): Address {
  const v = field(obj, name);
  if (typeof v !== "string" || !ADDRESS.test(v)) throw new FieldError(`${name} is not an address`);
  return getAddress(v);
}

function run<T>(raw: unknown, what: string, build: (obj: Fields) => T): Parsed<T> {
  if (!isRecord(raw)) return { ok: false, reason: `${what} is not an object` };
  try {
    return { ok: true, value: build(raw) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, reason: `${what}: ${error.message}` };
    throw error;
  }
}

/** A node transaction object -> PendingTx, stamped with `seenAt`. */
export function parsePendingTx(raw: unknown, seenAt: number): Parsed<PendingTx> {
  return run(raw, "transaction", (tx) => {
    const toRaw = field(tx, "to");
    // Some nodes omit `to` for a creation instead of sending null.
    const to = toRaw === undefined || toRaw === null ? null : address(tx, "to");
    // `input` is the standard name; a few clients still send `data`.
    const input = field(tx, "input") ?? field(tx, "data");
    if (typeof input !== "string" || !DATA.test(input)) throw new FieldError("input is not hex data");
    const typeRaw = field(tx, "type") ?? "0x0";
    if (typeof typeRaw !== "string" || !QUANTITY.test(typeRaw)) throw new FieldError("type is not hex");
    const maxFeePerGas = optionalQuantity(tx, "maxFeePerGas");
    const chainId = optionalQuantity(tx, "chainId");
    if (chainId !== undefined && chainId > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FieldError("chainId is too large");
    }
    const signature = parseSignature(tx);
    const accessList = parseAccessList(tx);
    return {
      hash: hash(tx, "hash"),
      from: address(tx, "from"),
      to,
      nonce: smallNumber(tx, "nonce"),
      input: input.toLowerCase() as Hex,
      value: quantity(tx, "value"),
      gas: quantity(tx, "gas"),
      // For fee-market transactions nodes report `gasPrice` as an effective price that depends
      // on the block (and differs between the subscription and txpool_content). It is not part
      // of the signed transaction, so it is only kept where it is: legacy and access-list txs.
      gasPrice: maxFeePerGas === undefined ? optionalQuantity(tx, "gasPrice") : undefined,
      maxFeePerGas,
      maxPriorityFeePerGas: optionalQuantity(tx, "maxPriorityFeePerGas"),
      type: typeRaw.toLowerCase() as Hex,
      chainId: chainId === undefined ? undefined : Number(chainId),
      ...(signature ? { signature } : {}),
      ...(accessList ? { accessList } : {}),
      seenAt,
    };
  });
}

/** r, s and v (and yParity) when all are there; a node that sends none leaves them out. */
function parseSignature(tx: Fields): PendingTx["signature"] {
  if (field(tx, "r") === undefined || field(tx, "s") === undefined || field(tx, "v") === undefined)
    return undefined;
  const yParity = optionalQuantity(tx, "yParity");
  if (yParity !== undefined && yParity > 1n) throw new FieldError("yParity is not 0 or 1");
  return {
    r: `0x${quantity(tx, "r").toString(16).padStart(64, "0")}`,
    s: `0x${quantity(tx, "s").toString(16).padStart(64, "0")}`,
    v: quantity(tx, "v"),
    yParity: yParity === undefined ? undefined : Number(yParity),
  };
}

function parseAccessList(tx: Fields): PendingTx["accessList"] {
  const list = field(tx, "accessList");
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw new FieldError("accessList is not a list");
  return list.map((item) => {
    if (!isRecord(item)) throw new FieldError("accessList has a bad entry");
    const keys = field(item, "storageKeys");
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string" || !HASH.test(k)))
      throw new FieldError("accessList has bad storage keys");
    return {
      address: address(item, "address"),
      storageKeys: keys.map((k) => (k as string).toLowerCase() as Hex),
    };
  });
}

/** A node block header (or a block without transactions) -> Head, stamped with `seenAt`. */
export function parseHead(raw: unknown, seenAt: number): Parsed<Head> {
  return run(raw, "head", (h) => ({
    number: quantity(h, "number"),
    hash: hash(h, "hash"),
    timestamp: quantity(h, "timestamp"),
    // Absent before London (and on some chains): null rather than a made-up number.
    baseFeePerGas: optionalQuantity(h, "baseFeePerGas") ?? null,
    seenAt,
  }));
}
