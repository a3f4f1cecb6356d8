import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../src/internal/ports.ts";

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

describe("vigil devnet (the command)", () => {
  it("deploys, prints the deployment as JSON, and stops Anvil on SIGTERM", async () => {
    const port = await freePort();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigil-")), "devnet.json");
    const child = spawn(
      process.execPath,
      [
        "bin/vigil.js",
        "devnet",
        "--port",
        String(port),
        "--relay-port",
        "0",
        "--block-time",
        "500",
        "--json",
        "--out",
        out,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VIGIL_LOG_LEVEL: "warn" } },
    );
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // The JSON document is printed once the world is deployed and the relay runs.
    for (let i = 0; i < 600 && !stdout.trimEnd().endsWith("}"); i++)
      await new Promise((r) => setTimeout(r, 100));
    const printed = JSON.parse(stdout) as { guardian: { address: string }; relayUrl: string; rpcUrl: string };
    expect(printed.rpcUrl).toBe(`http://127.0.0.1:${port}`);
    expect(JSON.parse(fs.readFileSync(out, "utf8")).guardian.address).toBe(printed.guardian.address);
    expect(await rpcAnswers(printed.rpcUrl)).toBe(true);
    expect(await rpcAnswers(printed.relayUrl)).toBe(true);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await rpcAnswers(printed.rpcUrl)).toBe(false);
    expect(await rpcAnswers(printed.relayUrl)).toBe(false);
  });

  it("refuses a bad flag with a message naming it", async () => {
    const child = spawn(process.execPath, ["bin/vigil.js", "devnet", "--block-time", "fast"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--block-time must be an integer from 100 to 600000 \(got "fast"\)/);
  });
});
