import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import { VigilError } from "../src/internal/errors.ts";
import { createKeystore, loadSentinelKey, SecretError } from "../src/internal/keystore.ts";

// Secrets the tests use; no error may ever contain them.
const KEY: Hex = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const KEY_HEX = KEY.slice(2);
const PASSWORD = "correct horse battery staple";
const WRONG_PASSWORD = "hunter2-wrong-password";
const ADDRESS = privateKeyToAddress(KEY);
const FAST = { scryptN: 1024 }; // tests only: ethers' default is 2^17

const dir = mkdtempSync(join(tmpdir(), "vigil-keystore-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `key-${++n}.json`);

async function errorOf(run: () => Promise<unknown>): Promise<SecretError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toBeInstanceOf(VigilError);
    return error as SecretError;
  }
  throw new Error("expected an error");
}

describe("sentinel key from an environment variable", () => {
  const sentinel = { privateKeyEnv: "VIGIL_SENTINEL_KEY" };

  it("accepts 64 hex digits with or without 0x, in any case, trimmed, and returns lowercase 0x hex", async () => {
    for (const value of [KEY, KEY_HEX, `0X${KEY_HEX.toUpperCase()}`, `  ${KEY}\n`]) {
      expect(await loadSentinelKey(sentinel, { VIGIL_SENTINEL_KEY: value })).toBe(KEY);
    }
  });

  it("names the missing variable", async () => {
    const e = await errorOf(() => loadSentinelKey(sentinel, {}));
    expect(e.message).toMatch(
      /^Environment variable VIGIL_SENTINEL_KEY is not set \(sentinel\.privateKeyEnv\)/,
    );
  });

  it("names the variable of a malformed key, never the value", async () => {
    const cases: [string, string][] = [
      ["", "the value is empty"],
      [`${KEY}ff`, "the value has 66 hex digits, expected 64"],
      [KEY.slice(0, -1), "the value has 63 hex digits, expected 64"],
      [`${KEY.slice(0, -1)}g`, "the value has characters that are not hex digits"],
      [`0x${"0".repeat(64)}`, "the value is not a valid secp256k1 private key (zero or too large)"],
      [`0x${"f".repeat(64)}`, "the value is not a valid secp256k1 private key (zero or too large)"],
    ];
    for (const [value, why] of cases) {
      const e = await errorOf(() => loadSentinelKey(sentinel, { VIGIL_SENTINEL_KEY: value }));
      expect(e.shortMessage).toBe(
        `Environment variable VIGIL_SENTINEL_KEY does not hold a private key: ${why}`,
      );
    }
  });
});

describe("sentinel key from an encrypted keystore", () => {
  it("round trip: creates a keystore (0600) and loads the same key back", async () => {
    const path = fresh();
    const started = Date.now();
    expect(await createKeystore(KEY, PASSWORD, path, FAST)).toBe(ADDRESS);
    const json = JSON.parse(readFileSync(path, "utf8")) as { version: number; Crypto: { kdf: string } };
    expect(json.version).toBe(3);
    expect(json.Crypto.kdf).toBe("scrypt"); // ethers writes geth's "Crypto"; readers accept either case
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = await loadSentinelKey(
      { keystore: path, passwordEnv: "VIGIL_KEYSTORE_PASSWORD" },
      { VIGIL_KEYSTORE_PASSWORD: PASSWORD },
    );
    expect(key).toBe(KEY);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("creates missing parent directories", async () => {
    const path = join(dir, "nested", "deeper", "key.json");
    await createKeystore(KEY, PASSWORD, path, FAST);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("refuses to overwrite an existing file and leaves it untouched", async () => {
    const path = fresh();
    writeFileSync(path, "precious");
    const e = await errorOf(() => createKeystore(KEY, PASSWORD, path, FAST));
    expect(e.shortMessage).toBe(`Refusing to overwrite ${path}: a file already exists there`);
    expect(readFileSync(path, "utf8")).toBe("precious");
  });

  it("a wrong password names the keystore and the variable", async () => {
    const path = fresh();
    await createKeystore(KEY, PASSWORD, path, FAST);
    const e = await errorOf(() =>
      loadSentinelKey({ keystore: path, passwordEnv: "PW" }, { PW: WRONG_PASSWORD }),
    );
    expect(e.shortMessage).toBe(`Wrong password for keystore ${path} (password read from PW)`);
    expect(e.hint).toBe("check that PW holds the password this keystore was encrypted with");
  });

  it("a missing password variable, a missing file, a file that is not a keystore", async () => {
    const path = fresh();
    expect(
      (await errorOf(() => loadSentinelKey({ keystore: path, passwordEnv: "PW" }, {}))).shortMessage,
    ).toBe(`Environment variable PW is not set: it must hold the password of keystore ${path}`);
    expect(
      (await errorOf(() => loadSentinelKey({ keystore: path, passwordEnv: "PW" }, { PW: PASSWORD })))
        .shortMessage,
    ).toBe(`Keystore ${path} does not exist (sentinel.keystore)`);
    writeFileSync(path, '{"hello": "world"}');
    expect(
      (await errorOf(() => loadSentinelKey({ keystore: path, passwordEnv: "PW" }, { PW: PASSWORD })))
        .shortMessage,
    ).toBe(`Keystore ${path} is not a JSON keystore (Web3 Secret Storage v3)`);
  });

  it("decrypts the pbkdf2 test vector of the Web3 Secret Storage definition (geth)", async () => {
    const path = fresh();
    writeFileSync(
      path,
      JSON.stringify({
        crypto: {
          cipher: "aes-128-ctr",
          cipherparams: { iv: "6087dab2f9fdbbfaddc31a909735c1e6" },
          ciphertext: "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
          kdf: "pbkdf2",
          kdfparams: {
            c: 262144,
            dklen: 32,
            prf: "hmac-sha256",
            salt: "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
          },
          mac: "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
        },
        id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        version: 3,
      }),
    );
    expect(await loadSentinelKey({ keystore: path, passwordEnv: "PW" }, { PW: "testpassword" })).toBe(
      "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
    );
  });

  it("decrypts a keystore written by Foundry (`cast wallet import`)", async () => {
    const castDir = join(dir, "cast");
    mkdirSync(castDir);
    execFileSync(
      "node_modules/.bin/cast",
      [
        "wallet",
        "import",
        "sentinel",
        "--keystore-dir",
        castDir,
        "--private-key",
        KEY,
        "--unsafe-password",
        PASSWORD,
      ],
      { stdio: "ignore" },
    );
    const file = readdirSync(castDir)[0] ?? "";
    expect(
      await loadSentinelKey({ keystore: join(castDir, file), passwordEnv: "PW" }, { PW: PASSWORD }),
    ).toBe(KEY);
  });

  it("rejects an invalid key or an empty password when creating", async () => {
    const path = fresh();
    expect((await errorOf(() => createKeystore(`${KEY}00` as Hex, PASSWORD, path, FAST))).shortMessage).toBe(
      `Cannot create keystore ${path}: the private key is invalid: the value has 66 hex digits, expected 64`,
    );
    expect((await errorOf(() => createKeystore(KEY, "", path, FAST))).shortMessage).toBe(
      `Cannot create keystore ${path}: the password is empty`,
    );
  });
});

describe("secrets never leak into errors", () => {
  /** Every text an error exposes: message, String(), JSON, stack, hint, details, and the whole cause chain. */
  function everything(error: unknown): string {
    const parts: string[] = [];
    let e: unknown = error;
    for (let depth = 0; e !== undefined && depth < 10; depth++) {
      parts.push(String(e), JSON.stringify(e) ?? "");
      if (e instanceof Error) parts.push(e.message, e.stack ?? "");
      if (e instanceof VigilError) parts.push(e.shortMessage, e.hint ?? "", ...e.details);
      e = e instanceof Error ? e.cause : undefined;
    }
    return parts.join("\n").toLowerCase();
  }

  it("no error path prints the key or the password", async () => {
    const good = fresh();
    await createKeystore(KEY, PASSWORD, good, FAST);
    const corrupt = fresh();
    const json = JSON.parse(readFileSync(good, "utf8")) as { Crypto: { kdf: string; mac: string } };
    writeFileSync(corrupt, JSON.stringify({ ...json, Crypto: { ...json.Crypto, kdf: "argon2" } }));
    const tampered = fresh();
    writeFileSync(tampered, JSON.stringify({ ...json, Crypto: { ...json.Crypto, mac: "00".repeat(32) } }));
    const notKeystore = fresh();
    writeFileSync(notKeystore, JSON.stringify({ privateKey: KEY, password: PASSWORD }));

    const env = { privateKeyEnv: "K" };
    const ks = (path: string) => ({ keystore: path, passwordEnv: "PW" });
    const paths: [string, () => Promise<unknown>][] = [
      ["env: missing", () => loadSentinelKey(env, {})],
      ["env: too long", () => loadSentinelKey(env, { K: `${KEY}${PASSWORD}` })],
      ["env: not hex", () => loadSentinelKey(env, { K: `${KEY_HEX.slice(0, 60)}zzzz` })],
      ["env: password pasted as key", () => loadSentinelKey(env, { K: PASSWORD })],
      ["keystore: no password variable", () => loadSentinelKey(ks(good), {})],
      ["keystore: wrong password", () => loadSentinelKey(ks(good), { PW: WRONG_PASSWORD })],
      ["keystore: tampered mac", () => loadSentinelKey(ks(tampered), { PW: PASSWORD })],
      ["keystore: unsupported kdf", () => loadSentinelKey(ks(corrupt), { PW: PASSWORD })],
      ["keystore: not a keystore", () => loadSentinelKey(ks(notKeystore), { PW: PASSWORD })],
      ["keystore: missing file", () => loadSentinelKey(ks(join(dir, "absent.json")), { PW: PASSWORD })],
      ["create: overwrite", () => createKeystore(KEY, PASSWORD, good, FAST)],
      ["create: bad key", () => createKeystore(`${KEY}0` as Hex, PASSWORD, fresh(), FAST)],
      ["create: empty password", () => createKeystore(KEY, "", fresh(), FAST)],
      ["create: bad scrypt cost", () => createKeystore(KEY, PASSWORD, fresh(), { scryptN: 1000 })],
      ["create: unwritable path", () => createKeystore(KEY, PASSWORD, join(good, "sub", "key.json"), FAST)],
    ];
    const secrets = [KEY_HEX, PASSWORD, WRONG_PASSWORD].map((s) => s.toLowerCase());
    for (const [label, run] of paths) {
      let caught: unknown;
      try {
        await run();
      } catch (error) {
        caught = error;
      }
      expect(caught, label).toBeInstanceOf(Error);
      const text = everything(caught);
      for (const secret of secrets)
        expect(text.includes(secret), `${label} leaks a secret: ${text}`).toBe(false);
    }
  });
});
