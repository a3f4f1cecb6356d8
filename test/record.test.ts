import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson, findSecretPath, sha256Hex, toJsonValue } from "../src/record/canonical.ts";
import {
  createIncidentLog,
  GENESIS_HASH,
  type IncidentEvent,
  RecordError,
  readIncidents,
  verifyIncidentLog,
} from "../src/record/incidents.ts";
import { formatVerifyResult, verifyRecords } from "../src/record/verify.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-record-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(dir, `run-${counter++}`, "incidents.jsonl");

const ID_A = `0x${"a1".repeat(32)}` as Hex;
const ID_B = `0x${"b2".repeat(32)}` as Hex;
const TX = `0x${"c3".repeat(32)}` as Hex;
const ADDR = "0x1111111111111111111111111111111111111111";
const TARGET = "0x2222222222222222222222222222222222222222";

function opened(id: Hex, at: number): IncidentEvent {
  return {
    kind: "opened",
    incidentId: id,
    at,
    decision: "pause",
    score: 0.93,
    reasons: [{ rule: "flash-loan", contribution: 0.5, detail: "borrowed 1e24 wei and repaid it" }],
    tx: { hash: TX, from: ADDR, to: null, raw: "0x02f8", nonce: 7 },
    targets: [TARGET],
    simulation: {
      gasUsed: 1_234_567n,
      outflow: { [TARGET]: 10n ** 24n },
      reverted: false,
      missing: undefined,
    },
    features: { flashLoan: true, profitWei: -5n, depth: 9 },
    versions: { code: "abc123", config: "cfg1", model: "m-0.1" },
    timings: { seen: 1000, simulated: 1040, scored: 1041 },
  };
}

/** A log with 6 lines (2 incidents), written across two open/close cycles. */
async function goodLog(): Promise<{ path: string; lines: string[] }> {
  const path = freshPath();
  const first = await createIncidentLog(path);
  await first.append(opened(ID_A, 1));
  await first.append({
    kind: "bundle",
    incidentId: ID_A,
    at: 2,
    relay: "http://127.0.0.1:8545",
    targetBlock: "101",
    bundleHash: `0x${"dd".repeat(32)}`,
    pauseTxHash: `0x${"ee".repeat(32)}`,
  });
  await first.close();
  const second = await createIncidentLog(path);
  expect(second.head().seq).toBe(1);
  await second.append({ kind: "note", incidentId: ID_A, at: 3, message: "bundle not included yet" });
  await second.append(opened(ID_B, 4));
  await second.append({
    kind: "resolved",
    incidentId: ID_A,
    at: 5,
    outcome: "paused",
    includedBlock: "101",
    timings: { bundleSent: 1050, included: 2100 },
  });
  const last = await second.append({ kind: "note", incidentId: ID_B, at: 6, message: "shadow mode" });
  expect(last.seq).toBe(5);
  expect(second.head()).toEqual(last);
  await second.close();
  return { path, lines: readLines(path) };
}

function readLines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").slice(0, -1);
}

/** Writes a tampered copy of a good log and returns its path. */
function tampered(lines: string[], mutate: (lines: string[]) => string[]): string {
  const path = join(dir, `tampered-${counter++}.jsonl`);
  writeFileSync(path, `${mutate([...lines]).join("\n")}\n`);
  return path;
}

/** Re-hashes a parsed line the way a careful forger would. */
function forge(record: Record<string, unknown>): string {
  const { hash: _drop, ...body } = record;
  return canonicalJson({ ...body, hash: sha256Hex(canonicalJson(body)) });
}

describe("canonical JSON", () => {
  it("sorts keys at every depth, writes bigints as decimal strings and drops undefined", () => {
    expect(canonicalJson({ b: 1n, a: { d: undefined, c: [2n, undefined], z: null }, n: Number.NaN })).toBe(
      '{"a":{"c":["2",null],"z":null},"b":"1","n":null}',
    );
    expect(toJsonValue({ big: 2n ** 70n })).toEqual({ big: "1180591620717411303424" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toJsonValue(cyclic)).toThrow(/cycle/);
  });

  it("finds a 64-hex value under a key-like name, and only there", () => {
    const key = `0x${"ab".repeat(32)}`;
    expect(findSecretPath(toJsonValue({ tx: { hash: key } }))).toBeUndefined();
    expect(findSecretPath(toJsonValue({ signer: { privateKey: key } }))).toBe("signer.privateKey");
    expect(findSecretPath(toJsonValue({ apiSecret: ["x", `pk=${key.slice(2)}`] }))).toBe("apiSecret[1]");
    expect(findSecretPath(toJsonValue({ publicKey: `0x04${"ab".repeat(64)}` }))).toBeUndefined();
  });
});

describe("incident log hash chain", () => {
  it("chains lines across two open/close cycles and verifies them", async () => {
    const { path, lines } = await goodLog();
    expect(lines).toHaveLength(6);
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < lines.length; i++) expect(records[i].prevHash).toBe(sha256Hex(lines[i - 1] ?? ""));
    // Each line is canonical and its hash covers everything but the hash.
    for (const [i, line] of lines.entries()) {
      expect(canonicalJson(JSON.parse(line))).toBe(line);
      const { hash, ...body } = records[i];
      expect(sha256Hex(canonicalJson(body))).toBe(hash);
    }
    // bigints were written as decimal strings, undefined dropped.
    expect(records[0].event.simulation).toEqual({
      gasUsed: "1234567",
      outflow: { [TARGET]: "1000000000000000000000000" },
      reverted: false,
    });
    expect(records[0].event.features.profitWei).toBe("-5");

    const result = await verifyIncidentLog(path);
    expect(result).toEqual({ ok: true, lines: 6, incidents: 2, head: { seq: 5, hash: records[5].hash } });
    expect(formatVerifyResult(result, path)[0]).toBe(`OK: ${path}: hash chain intact`);
    expect((await verifyRecords(path)).exitCode).toBe(0);
  });

  it("folds events by incident for reports", async () => {
    const { path } = await goodLog();
    const incidents = await readIncidents(path);
    expect(incidents.map((i) => i.incidentId)).toEqual([ID_A, ID_B]);
    const [a, b] = incidents;
    expect(a?.status).toBe("resolved");
    expect(a?.outcome).toBe("paused");
    expect(a?.opened?.decision).toBe("pause");
    expect(a?.bundles).toHaveLength(1);
    expect(a?.bundles[0]?.targetBlock).toBe("101");
    expect(a?.notes).toEqual([{ at: 3, message: "bundle not included yet" }]);
    expect(a?.timings).toEqual({
      seen: 1000,
      simulated: 1040,
      scored: 1041,
      bundleSent: 1050,
      included: 2100,
    });
    expect(a?.seqs).toEqual([0, 1, 2, 4]);
    expect(a?.firstAt).toBe(1);
    expect(a?.lastAt).toBe(5);
    expect(b?.status).toBe("open");
    expect(b?.outcome).toBeUndefined();
    expect(b?.seqs).toEqual([3, 5]);
  });

  it("verifies an empty file and a fresh log", async () => {
    const path = freshPath();
    const log = await createIncidentLog(path);
    expect(log.head()).toEqual({ seq: -1, hash: GENESIS_HASH });
    await log.close();
    expect(await verifyIncidentLog(path)).toEqual({ ok: true, lines: 0, incidents: 0, head: null });
    await expect(verifyIncidentLog(join(dir, "nope.jsonl"))).rejects.toMatchObject({ code: "not-found" });
  });

  describe("detects tampering", () => {
    it("an edited field in the middle (bad hash on that line)", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => {
        l[2] = (l[2] ?? "").replace("bundle not included yet", "bundle included");
        return l;
      });
      const result = await verifyIncidentLog(path);
      expect(result).toMatchObject({ ok: false, lines: 6, badLine: 3 });
      expect(!result.ok && result.problem).toMatch(/hash does not match/);
      expect(formatVerifyResult(result, path).join("\n")).toMatch(
        /BROKEN.*line 3 of 6[\s\S]*Lines 1-2 are intact/,
      );
      expect((await verifyRecords(path)).exitCode).toBe(1);
    });

    it("an edited field with its hash recomputed (the next line's prevHash breaks)", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => {
        const record = JSON.parse(l[1] ?? "");
        record.event.targetBlock = "999";
        l[1] = forge(record);
        return l;
      });
      const result = await verifyIncidentLog(path);
      expect(result).toMatchObject({ ok: false, badLine: 3 });
      expect(!result.ok && result.problem).toMatch(/prevHash/);
    });

    it("a deleted line", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => l.filter((_, i) => i !== 2));
      const result = await verifyIncidentLog(path);
      expect(result).toMatchObject({ ok: false, lines: 5, badLine: 3 });
      expect(!result.ok && result.problem).toMatch(/seq is 3, expected 2/);
    });

    it("two swapped lines", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => [l[0], l[1], l[3], l[2], l[4], l[5]] as string[]);
      expect(await verifyIncidentLog(path)).toMatchObject({ ok: false, badLine: 3 });
    });

    it("an inserted line, even with a consistent seq and hash", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => {
        const fake = JSON.parse(l[2] ?? "");
        fake.event.message = "inserted";
        return [l[0], l[1], l[2], forge(fake), l[3], l[4], l[5]] as string[];
      });
      expect(await verifyIncidentLog(path)).toMatchObject({ ok: false, badLine: 4 });
    });

    it("an appended line with a wrong prevHash", async () => {
      const { lines } = await goodLog();
      const path = tampered(lines, (l) => {
        const extra = JSON.parse(l[5] ?? "");
        extra.seq = 6;
        extra.prevHash = "f".repeat(64);
        return [...l, forge(extra)];
      });
      const result = await verifyIncidentLog(path);
      expect(result).toMatchObject({ ok: false, lines: 7, badLine: 7 });
      expect(!result.ok && result.problem).toMatch(/prevHash/);
    });

    it("a truncated last line", async () => {
      const { path: good } = await goodLog();
      const bytes = readFileSync(good);
      const path = join(dir, `truncated-${counter++}.jsonl`);
      writeFileSync(path, bytes.subarray(0, bytes.length - 20));
      const result = await verifyIncidentLog(path);
      expect(result).toMatchObject({ ok: false, lines: 6, badLine: 6 });
      expect(!result.ok && result.problem).toMatch(/incomplete/);
      // Cut exactly at the final newline: still a torn write.
      writeFileSync(path, bytes.subarray(0, bytes.length - 1));
      expect(await verifyIncidentLog(path)).toMatchObject({ ok: false, badLine: 6 });
    });

    it("whitespace changes (non-canonical line) and garbage", async () => {
      const { lines } = await goodLog();
      const spaced = tampered(lines, (l) => {
        l[4] = JSON.stringify(JSON.parse(l[4] ?? ""), null, 0).replace('"seq":', '"seq": ');
        return l;
      });
      expect(await verifyIncidentLog(spaced)).toMatchObject({ ok: false, badLine: 5 });
      const garbage = tampered(lines, (l) => ["not json", ...l]);
      expect(await verifyIncidentLog(garbage)).toMatchObject({
        ok: false,
        badLine: 1,
        problem: expect.stringMatching(/JSON/),
      });
    });
  });

  it("refuses to continue a broken file, with a hint, and releases its lock", async () => {
    const { path, lines } = await goodLog();
    writeFileSync(path, `${[lines[0], lines[2], lines[3]].join("\n")}\n`);
    const error = await createIncidentLog(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({ code: "broken-chain" });
    expect((error as RecordError).message).toMatch(/line 2 of 3/);
    expect((error as RecordError).hint).toMatch(/verify-records/);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(readLines(path)).toHaveLength(3); // nothing appended
  });

  it("keeps a valid chain under concurrent appends, in call order", async () => {
    const path = freshPath();
    const log = await createIncidentLog(path, { fsync: true });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        log.append({ kind: "note", incidentId: ID_A, at: i, message: `note ${i}` }),
      ),
    );
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await log.close();
    expect(await verifyIncidentLog(path)).toMatchObject({ ok: true, lines: 50, incidents: 1 });
    expect(readLines(path).map((l) => JSON.parse(l).event.at)).toEqual(results.map((r) => r.seq));
  });

  it("rejects an event holding a private key, writes nothing, and keeps working", async () => {
    const path = freshPath();
    const log = await createIncidentLog(path);
    const privateKey = `0x${"4c".repeat(32)}`;
    const leaky = { ...opened(ID_A, 1), simulation: { signer: { privateKey } } } as IncidentEvent;
    const error = await log.append(leaky).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({ code: "secret" });
    expect((error as RecordError).message).toMatch(/simulation\.signer\.privateKey/);
    expect((error as RecordError).message).not.toContain(privateKey.slice(2));
    // Without 0x, nested in features, under a "mnemonic"-like key: same.
    const other = { ...opened(ID_A, 1), features: { walletMnemonic: privateKey.slice(2) } } as IncidentEvent;
    await expect(log.append(other)).rejects.toMatchObject({ code: "secret" });
    // An ordinary event goes through, first in the file.
    expect(await log.append(opened(ID_A, 2))).toMatchObject({ seq: 0 });
    await log.close();
    expect(readFileSync(path, "utf8")).not.toContain(privateKey.slice(2));
    expect(await verifyIncidentLog(path)).toMatchObject({ ok: true, lines: 1 });
  });

  it("rejects malformed events and appends after close", async () => {
    const path = freshPath();
    const log = await createIncidentLog(path);
    await expect(log.append({ kind: "bogus" } as unknown as IncidentEvent)).rejects.toMatchObject({
      code: "invalid-event",
    });
    await log.close();
    await log.close();
    await expect(log.append(opened(ID_A, 1))).rejects.toMatchObject({ code: "closed" });
  });

  it("locks the file against a second writer and takes over a dead process's lock", async () => {
    const path = freshPath();
    const log = await createIncidentLog(path);
    await expect(createIncidentLog(path)).rejects.toMatchObject({ code: "locked" });
    await log.close();
    // A lock left behind by a process that has exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    }).stdout;
    writeFileSync(`${path}.lock`, `${dead}\n`);
    const again = await createIncidentLog(path);
    await again.append(opened(ID_A, 1));
    await again.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(await verifyIncidentLog(path)).toMatchObject({ ok: true, lines: 1 });
  });

  it("reads a broken record only when asked to, up to the first bad line", async () => {
    const { lines } = await goodLog();
    const path = tampered(lines, (l) => l.slice(0, 4).concat(["oops"]));
    await expect(readIncidents(path)).rejects.toMatchObject({ code: "broken-chain" });
    const partial = await readIncidents(path, { allowBroken: true });
    expect(partial.map((i) => i.seqs)).toEqual([[0, 1, 2], [3]]);
  });
});
