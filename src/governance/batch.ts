import { type Address, getAddress, type Hex, keccak256, stringToHex } from "viem";

/**
 * Safe Transaction Builder batch files: the JSON the Safe{Wallet} "Transaction Builder" app
 * imports (drag and drop) and exports. Shape and checksum follow the app's own code
 * (safe-global/safe-react-apps, apps/tx-builder: typings/models.ts, lib/checksum.ts,
 * store/transactionLibraryContext.tsx).
 *
 * On import the app uses a transaction's `data` as is when it is set, and otherwise encodes
 * `contractMethod` with `contractInputsValues`. Vigil writes both: `data` is the exact calldata
 * whose SafeTx hash Vigil prints, and the method and values let a reviewer read what it does
 * (they encode to the same bytes, which the tests check).
 */

/** The Transaction Builder version whose format these files follow. */
export const TX_BUILDER_VERSION = "1.18.0";

export type ContractInput = { internalType: string; name: string; type: string };
export type ContractMethod = { inputs: ContractInput[]; name: string; payable: boolean };

export type BatchTransaction = {
  to: Address;
  /** Wei, as a decimal string (the app rejects numbers). */
  value: string;
  data: Hex | null;
  contractMethod?: ContractMethod;
  /** Input values by input name, all strings. */
  contractInputsValues?: Record<string, string>;
};

export type BatchFileMeta = {
  name: string;
  description: string;
  txBuilderVersion: string;
  createdFromSafeAddress: Address;
  createdFromOwnerAddress: string;
  checksum?: Hex;
};

export type BatchFile = {
  version: "1.0";
  /** Decimal chain id, as a string. */
  chainId: string;
  /** Epoch ms. */
  createdAt: number;
  meta: BatchFileMeta;
  transactions: BatchTransaction[];
};

export function buildBatchFile(options: {
  chainId: number;
  safe: Address;
  name: string;
  description: string;
  transactions: BatchTransaction[];
  owner?: Address;
  createdAt?: number;
}): BatchFile {
  return addChecksum({
    version: "1.0",
    chainId: String(options.chainId),
    createdAt: options.createdAt ?? Date.now(),
    meta: {
      name: options.name,
      description: options.description,
      txBuilderVersion: TX_BUILDER_VERSION,
      createdFromSafeAddress: getAddress(options.safe),
      createdFromOwnerAddress: options.owner ? getAddress(options.owner) : "",
    },
    transactions: options.transactions,
  });
}

/**
 * The app's serialisation for checksums: objects become `{<sorted keys as a JSON array><each
 * value serialised, followed by a comma>}`, arrays `[a,b]`, everything else JSON (undefined as
 * null). Reproduced exactly, or the app warns that the file was modified.
 */
export function serializeForChecksum(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => serializeForChecksum(v)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = `{${JSON.stringify(keys)}`;
    for (const k of keys) out += `${serializeForChecksum(record[k])},`;
    return `${out}}`;
  }
  return JSON.stringify(value === undefined ? null : value) ?? "null";
}

/** keccak256 of the serialised file, computed without `meta.checksum` (as the app validates it). */
export function batchChecksum(file: BatchFile): Hex {
  const { checksum: _ignored, ...meta } = file.meta;
  return keccak256(stringToHex(serializeForChecksum({ ...file, meta })));
}

export function addChecksum(file: BatchFile): BatchFile {
  return { ...file, meta: { ...file.meta, checksum: batchChecksum(file) } };
}

/** Whether the file's checksum matches its content (what the app checks on import). */
export function validateChecksum(file: BatchFile): boolean {
  return file.meta.checksum !== undefined && file.meta.checksum === batchChecksum(file);
}
