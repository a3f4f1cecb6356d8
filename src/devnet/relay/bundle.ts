import {
  type Address,
  concat,
  type Hex,
  isHex,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  type TransactionSerialized,
} from "viem";
import { InputError } from "../../internal/errors.ts";

/** Flashbots' limits on one bundle. */
export const MAX_BUNDLE_TXS = 100;
export const MAX_BUNDLE_BYTES = 300_000;

export type BundleTx = { raw: Hex; hash: Hex; from: Address; nonce: number };

/** A bundle as the relay keeps it. */
export type Bundle = {
  bundleHash: Hex;
  txs: readonly BundleTx[];
  blockNumber: bigint;
  minTimestamp: number | undefined;
  maxTimestamp: number | undefined;
  revertingTxHashes: ReadonlySet<Hex>;
  replacementUuid: string | undefined;
  /** The address that signed the X-Flashbots-Signature header. */
  signer: Address;
  /** Arrival order, to break payment ties. */
  seq: number;
};

/** `keccak256` of the concatenated transaction hashes, as Flashbots computes a bundle hash. */
export function bundleHashOf(txHashes: readonly Hex[]): Hex {
  return keccak256(concat(txHashes as Hex[]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function quantity(v: unknown, field: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v);
  throw new InputError(`${field} must be a hex quantity like "0x1a" (got ${JSON.stringify(v)})`);
}

function optionalTimestamp(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === 0) return undefined;
  const n = Number(quantity(v, field));
  return n === 0 ? undefined : n;
}

/** Decodes signed raw transactions, recovering senders; throws InputError naming the bad one. */
export async function decodeBundleTxs(txs: unknown, field = "txs"): Promise<BundleTx[]> {
  if (!Array.isArray(txs) || txs.length === 0) throw new InputError(`${field} must be a non-empty array`);
  if (txs.length > MAX_BUNDLE_TXS)
    throw new InputError(`${field} holds ${txs.length} transactions; at most ${MAX_BUNDLE_TXS}`);
  let bytes = 0;
  const out: BundleTx[] = [];
  for (const [i, raw] of txs.entries()) {
    if (typeof raw !== "string" || !isHex(raw, { strict: true }) || raw.length < 4) {
      throw new InputError(`${field}[${i}] must be a signed raw transaction as 0x-hex`);
    }
    bytes += (raw.length - 2) / 2;
    let from: Address;
    let nonce: number;
    try {
      const parsed = parseTransaction(raw as TransactionSerialized);
      nonce = parsed.nonce ?? 0;
      from = await recoverTransactionAddress({ serializedTransaction: raw as TransactionSerialized });
    } catch (error) {
      throw new InputError(`${field}[${i}] is not a valid signed transaction`, { cause: error });
    }
    out.push({ raw: raw as Hex, hash: keccak256(raw as Hex), from, nonce });
  }
  if (bytes > MAX_BUNDLE_BYTES) throw new InputError(`bundle is ${bytes} bytes; at most ${MAX_BUNDLE_BYTES}`);
  return out;
}

/** Validates `eth_sendBundle` params into a Bundle. */
export async function parseSendBundle(params: unknown, signer: Address, seq: number): Promise<Bundle> {
  const p = Array.isArray(params) ? params[0] : undefined;
  if (!isObject(p)) throw new InputError("eth_sendBundle expects params [{ txs, blockNumber, ... }]");
  const txs = await decodeBundleTxs(p.txs);
  const blockNumber = quantity(p.blockNumber, "blockNumber");
  const reverting = p.revertingTxHashes ?? [];
  if (
    !Array.isArray(reverting) ||
    !reverting.every((h) => typeof h === "string" && /^0x[0-9a-fA-F]{64}$/.test(h))
  ) {
    throw new InputError("revertingTxHashes must be an array of 32-byte transaction hashes");
  }
  const uuid = p.replacementUuid;
  if (
    uuid !== undefined &&
    uuid !== null &&
    (typeof uuid !== "string" || uuid.length === 0 || uuid.length > 100)
  ) {
    throw new InputError("replacementUuid must be a non-empty string (a UUID)");
  }
  const minTimestamp = optionalTimestamp(p.minTimestamp, "minTimestamp");
  const maxTimestamp = optionalTimestamp(p.maxTimestamp, "maxTimestamp");
  if (minTimestamp !== undefined && maxTimestamp !== undefined && minTimestamp > maxTimestamp) {
    throw new InputError(`minTimestamp ${minTimestamp} is after maxTimestamp ${maxTimestamp}`);
  }
  return {
    bundleHash: bundleHashOf(txs.map((t) => t.hash)),
    txs,
    blockNumber,
    minTimestamp,
    maxTimestamp,
    revertingTxHashes: new Set(reverting.map((h) => (h as string).toLowerCase() as Hex)),
    replacementUuid: typeof uuid === "string" ? uuid : undefined,
    signer,
    seq,
  };
}

export type CallBundleParams = {
  txs: BundleTx[];
  blockNumber: bigint;
  stateBlock: bigint | "latest";
  timestamp: number | undefined;
};

/** Validates `eth_callBundle` params. */
export async function parseCallBundle(params: unknown): Promise<CallBundleParams> {
  const p = Array.isArray(params) ? params[0] : undefined;
  if (!isObject(p))
    throw new InputError("eth_callBundle expects params [{ txs, blockNumber, stateBlockNumber }]");
  const txs = await decodeBundleTxs(p.txs);
  const blockNumber = quantity(p.blockNumber, "blockNumber");
  const s = p.stateBlockNumber;
  const stateBlock =
    s === undefined || s === null || s === "latest" ? "latest" : quantity(s, "stateBlockNumber");
  return { txs, blockNumber, stateBlock, timestamp: optionalTimestamp(p.timestamp, "timestamp") };
}

/** Bundles waiting for their block; replacement by (signer, replacementUuid) as on Flashbots. */
export class BundleStore {
  readonly #bundles = new Map<string, Bundle>();
  readonly #byUuid = new Map<string, string>();

  static #key(b: Pick<Bundle, "bundleHash" | "blockNumber" | "signer">): string {
    return `${b.blockNumber}:${b.signer.toLowerCase()}:${b.bundleHash}`;
  }

  static #uuidKey(signer: Address, uuid: string): string {
    return `${signer.toLowerCase()}:${uuid}`;
  }

  add(bundle: Bundle): { replaced: Hex | undefined } {
    let replaced: Hex | undefined;
    if (bundle.replacementUuid !== undefined) {
      const uk = BundleStore.#uuidKey(bundle.signer, bundle.replacementUuid);
      const old = this.#byUuid.get(uk);
      if (old !== undefined) {
        replaced = this.#bundles.get(old)?.bundleHash;
        this.#bundles.delete(old);
      }
      this.#byUuid.set(uk, BundleStore.#key(bundle));
    }
    this.#bundles.set(BundleStore.#key(bundle), bundle);
    return { replaced };
  }

  /** Removes the signer's bundle with this uuid; returns the removed bundle hashes. */
  cancel(signer: Address, uuid: string): Hex[] {
    const uk = BundleStore.#uuidKey(signer, uuid);
    const key = this.#byUuid.get(uk);
    if (key === undefined) return [];
    this.#byUuid.delete(uk);
    const b = this.#bundles.get(key);
    this.#bundles.delete(key);
    return b ? [b.bundleHash] : [];
  }

  /** Bundles that target `block` and accept `timestamp`. */
  eligible(block: bigint, timestamp: number): Bundle[] {
    return [...this.#bundles.values()].filter(
      (b) =>
        b.blockNumber === block &&
        (b.minTimestamp === undefined || timestamp >= b.minTimestamp) &&
        (b.maxTimestamp === undefined || timestamp <= b.maxTimestamp),
    );
  }

  /** Forgets bundles whose target block is at or below `block`. */
  prune(block: bigint): void {
    for (const [key, b] of this.#bundles) {
      if (b.blockNumber <= block) {
        this.#bundles.delete(key);
        if (b.replacementUuid !== undefined) {
          const uk = BundleStore.#uuidKey(b.signer, b.replacementUuid);
          if (this.#byUuid.get(uk) === key) this.#byUuid.delete(uk);
        }
      }
    }
  }

  get size(): number {
    return this.#bundles.size;
  }
}
