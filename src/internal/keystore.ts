/**
 * The sentinel key: from an environment variable or an encrypted JSON keystore (Web3 Secret
 * Storage v3, as written by geth, ethers or `cast wallet new`). Decryption and encryption are
 * ethers' own; nothing here is hand-rolled crypto.
 *
 * Every error names the variable or the file, never the key nor the password, and carries no
 * `cause` from the crypto library (whose messages could quote its inputs).
 */
import { constants } from "node:fs";
import { access, chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { encryptKeystoreJson, isKeystoreJson, Wallet } from "ethers";
import { type Address, getAddress, type Hex } from "viem";
import type { SentinelConfig } from "./config.ts";
import { VigilError } from "./errors.ts";

/** A secret (the sentinel key or its keystore) could not be read, decrypted or written. */
export class SecretError extends VigilError {
  override name = "SecretError";
}

/** Order of the secp256k1 group: a private key is in [1, n). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The sentinel private key named by `config.sentinel`, as 0x-prefixed lowercase hex.
 * `env` defaults to `process.env` (tests pass their own).
 */
export async function loadSentinelKey(
  sentinel: SentinelConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Hex> {
  if ("privateKeyEnv" in sentinel) {
    const name = sentinel.privateKeyEnv;
    const raw = env[name];
    if (raw === undefined) {
      throw new SecretError(`Environment variable ${name} is not set (sentinel.privateKeyEnv)`, {
        hint: `set ${name} to the sentinel's private key (64 hex digits), or point sentinel at an encrypted keystore`,
      });
    }
    const problem = privateKeyProblem(raw);
    if (problem) {
      throw new SecretError(`Environment variable ${name} does not hold a private key: ${problem}`, {
        hint: `set ${name} to the sentinel's private key: 32 bytes of hex (64 hex digits), with or without 0x; the value is never shown`,
      });
    }
    return normaliseKey(raw);
  }

  const { keystore: path, passwordEnv } = sentinel;
  const password = env[passwordEnv];
  if (password === undefined) {
    throw new SecretError(
      `Environment variable ${passwordEnv} is not set: it must hold the password of keystore ${path}`,
      { hint: `set ${passwordEnv} (sentinel.passwordEnv) to the keystore's password` },
    );
  }
  const json = await readKeystoreFile(path);
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (error) {
    if (isWrongPassword(error)) {
      throw new SecretError(`Wrong password for keystore ${path} (password read from ${passwordEnv})`, {
        hint: `check that ${passwordEnv} holds the password this keystore was encrypted with${password === "" ? ` (${passwordEnv} is empty)` : ""}`,
      });
    }
    throw new SecretError(`Could not decrypt keystore ${path}: ${safeReason(error, [password])}`, {
      hint: "the file must be a Web3 Secret Storage v3 keystore (scrypt or pbkdf2, aes-128-ctr) as written by geth, ethers or `cast wallet new`",
    });
  }
  return normaliseKey(wallet.privateKey);
}

/**
 * Encrypts `privateKey` with `password` into a new keystore file at `path` (mode 0600, parent
 * directories created 0700) and returns the key's address. Refuses to overwrite an existing file.
 * `scryptN` lowers the scrypt cost (default 2^17, ethers' default): for tests only.
 */
export async function createKeystore(
  privateKey: Hex,
  password: string,
  path: string,
  options: { scryptN?: number } = {},
): Promise<Address> {
  const problem = privateKeyProblem(privateKey);
  if (problem) {
    throw new SecretError(`Cannot create keystore ${path}: the private key is invalid: ${problem}`, {
      hint: "pass 32 bytes of hex (64 hex digits); the key is never shown",
    });
  }
  if (password.length === 0) {
    throw new SecretError(`Cannot create keystore ${path}: the password is empty`, {
      hint: "choose a non-empty password",
    });
  }
  if (await exists(path)) throw refuseOverwrite(path);

  const wallet = new Wallet(normaliseKey(privateKey));
  let json: string;
  try {
    json = await encryptKeystoreJson(
      { address: wallet.address, privateKey: wallet.privateKey },
      password,
      options.scryptN === undefined ? {} : { scrypt: { N: options.scryptN } },
    );
  } catch (error) {
    throw new SecretError(`Cannot create keystore ${path}: ${safeReason(error, [password, privateKey])}`, {
      hint: "scryptN must be a power of two greater than 1",
    });
  }
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // "wx": fail if the file appeared since the check above; never replace a key.
    await writeFile(path, json, { flag: "wx", mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw refuseOverwrite(path);
    throw new SecretError(`Cannot write keystore ${path}: ${code ?? "write failed"}`, {
      hint: "check that the path's directory can be created and written to",
    });
  }
  await chmod(path, 0o600); // in case a umask-free filesystem ignored the mode
  return getAddress(wallet.address);
}

// ---------------------------------------------------------------------------------------------

/** Why `raw` is not a private key, in words that never include it; undefined if it is one. */
function privateKeyProblem(raw: string): string | undefined {
  const value = raw.trim();
  if (value === "") return "the value is empty";
  const hex = value.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]*$/.test(hex)) return "the value has characters that are not hex digits";
  if (hex.length !== 64) return `the value has ${hex.length} hex digits, expected 64`;
  const k = BigInt(`0x${hex}`);
  if (k === 0n || k >= SECP256K1_N)
    return "the value is not a valid secp256k1 private key (zero or too large)";
  return undefined;
}

function normaliseKey(raw: string): Hex {
  return `0x${raw.trim().replace(/^0x/i, "").toLowerCase()}`;
}

async function readKeystoreFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES"
          ? "cannot be read: permission denied"
          : code === "EISDIR"
            ? "is a directory, not a file"
            : `cannot be read (${code ?? "unknown error"})`;
    throw new SecretError(`Keystore ${path} ${why} (sentinel.keystore)`, {
      hint: "point sentinel.keystore at an encrypted JSON keystore, e.g. one written by `cast wallet new`",
    });
  }
  if (!isKeystoreJson(text)) {
    throw new SecretError(`Keystore ${path} is not a JSON keystore (Web3 Secret Storage v3)`, {
      hint: "the file must be an encrypted JSON keystore as written by geth, ethers or `cast wallet new`",
    });
  }
  return text;
}

function isWrongPassword(error: unknown): boolean {
  return error instanceof Error && /incorrect password/i.test(error.message);
}

/**
 * The library's one-line reason, unless it quotes one of the secrets (then a generic phrase).
 * ethers redacts passwords itself; this is the belt to its braces.
 */
function safeReason(error: unknown, secrets: readonly string[]): string {
  const e = error as { shortMessage?: unknown; message?: unknown };
  const reason =
    typeof e?.shortMessage === "string"
      ? e.shortMessage
      : typeof e?.message === "string"
        ? (e.message.split("\n")[0] ?? "")
        : "";
  const lower = reason.toLowerCase();
  const leaks = secrets.some((s) => {
    const t = s.trim().replace(/^0x/i, "").toLowerCase();
    return t.length > 0 && lower.includes(t);
  });
  return reason === "" || leaks
    ? "the library reported an error (details withheld: they could quote a secret)"
    : reason;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function refuseOverwrite(path: string): SecretError {
  return new SecretError(`Refusing to overwrite ${path}: a file already exists there`, {
    hint: "choose another path, or move the existing keystore away first (it may hold the only copy of a key)",
  });
}
