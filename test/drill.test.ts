import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verifyIncidentLog } from "../src/record/incidents.ts";

type Report = {
  scenarios: {
    name: string;
    kind: "attack" | "benign";
    detected: boolean;
    score: number;
    reasons: string[];
    paused: boolean;
    prevented: boolean;
    valueLostWei: string;
    timings: {
      seenMs: number;
      simulatedMs: number | null;
      decidedMs: number | null;
      bundleSentMs: number | null;
      includedBlock: string | null;
    };
  }[];
  summary: { attacks: number; prevented: number; benign: number; falsePauses: number };
  recordPath: string;
};

describe("vigil drill --json (the fire drill, end to end)", () => {
  it("prevents every attack, pauses on no benign transaction, and prints one JSON document", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-drill-"));
    const child = spawn(
      process.execPath,
      ["bin/vigil.js", "drill", "--json", "--block-time", "600", "--out", out],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report; // exactly one document: JSON.parse fails on anything else
    expect(stderr).toMatch(/\[1\/\d+\] benign swap/); // progress went to stderr

    const attacks = report.scenarios.filter((s) => s.kind === "attack");
    const benign = report.scenarios.filter((s) => s.kind === "benign");
    expect(attacks.map((a) => a.name)).toEqual([
      "attack-erc3156",
      "attack-v2-flash-swap",
      "attack-in-constructor",
    ]);
    for (const a of attacks) {
      expect(a, a.name).toMatchObject({ detected: true, paused: true, prevented: true, valueLostWei: "0" });
      expect(a.reasons).toContain("protected-read-manipulated");
      expect(a.timings.bundleSentMs).toBeGreaterThan(a.timings.decidedMs ?? 0);
      expect(a.timings.includedBlock).not.toBeNull();
    }
    expect(benign.length).toBeGreaterThanOrEqual(5);
    for (const b of benign) expect(b, b.name).toMatchObject({ paused: false });
    expect(report.summary).toEqual({
      attacks: 3,
      prevented: 3,
      benign: benign.length,
      falsePauses: 0,
      detected: 3,
      missed: 0,
    });
    expect(await verifyIncidentLog(report.recordPath)).toMatchObject({ ok: true });
  }, 180_000);
});
