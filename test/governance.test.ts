import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type AbiFunction,
  type Address,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  stringToHex,
  toFunctionSelector,
  toHex,
  zeroAddress,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGovernanceAction } from "../src/cli/governance.ts";
import { Guardian, Safe } from "../src/contracts/generated/artifacts.ts";
import { devnetAccount, devnetPrivateKey } from "../src/devnet/accounts.ts";
import { execAndMine } from "../src/devnet/chain.ts";
import { type RunningDevnet, startDevnet } from "../src/devnet/devnet.ts";
import { createSafe } from "../src/devnet/safe.ts";
import {
  DEFAULT_PAUSE_SELECTOR,
  DEFAULT_UNPAUSE_SELECTOR,
  encodeAction,
  type GovernanceAction,
  parseAction,
} from "../src/governance/actions.ts";
import {
  addChecksum,
  type BatchFile,
  serializeForChecksum,
  validateChecksum,
} from "../src/governance/batch.ts";
import { ownerKeysFromEnv } from "../src/governance/safe-tx.ts";
import { formatGuardianStatus, readGuardianStatus } from "../src/governance/status.ts";
import { InputError } from "../src/internal/errors.ts";
import { silentLogger } from "../src/internal/logger.ts";

const A = "0x1111111111111111111111111111111111111111";

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected an InputError");
}

describe("governance actions: parsing and validation", () => {
  it("parses every action with its arguments", () => {
    expect(parseAction("add-sentinel", [A, "5"])).toEqual({ kind: "add-sentinel", sentinel: A, budget: 5 });
    expect(parseAction("set-budget", [A.toLowerCase(), "1"])).toEqual({
      kind: "set-budget",
      sentinel: A,
      budget: 1,
    });
    expect(parseAction("set-max-pause", ["12h"])).toEqual({ kind: "set-max-pause", seconds: 43_200 });
    expect(parseAction("set-budget-window", ["60"])).toEqual({ kind: "set-budget-window", seconds: 60 });
    expect(parseAction("set-budget-window", ["30d"])).toEqual({
      kind: "set-budget-window",
      seconds: 2_592_000,
    });
    expect(
      parseAction("add-target", [A], { pauseSelector: "emergencyStop()", unpauseSelector: "0xABCDEF01" }),
    ).toEqual({
      kind: "add-target",
      target: A,
      selectors: { pause: "0x63a599a4", unpause: "0xabcdef01" },
    });
    expect(parseAction("transfer-governance", [zeroAddress])).toEqual({
      kind: "transfer-governance",
      to: zeroAddress,
    });
    expect(parseAction("accept-governance", [])).toEqual({ kind: "accept-governance" });
  });

  it("rejects bad input with a message saying what was expected", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => parseAction("add-sentinel", ["0x123", "5"]), /the sentinel must be a 20-byte hex address/],
      [
        () => parseAction("add-sentinel", ["0x15d34aAf54267DB7D7c367839AAf71A00a2C6A65", "5"]),
        /bad EIP-55 checksum/,
      ],
      [() => parseAction("add-sentinel", [zeroAddress, "5"]), /must not be the zero address/],
      [
        () => parseAction("add-sentinel", [A, "0"]),
        /budget must be a whole number from 1 to 4294967295 \(got "0"\)/,
      ],
      [() => parseAction("set-budget", [A, "2.5"]), /budget must be a whole number/],
      [() => parseAction("set-budget", [A, "4294967296"]), /budget must be a whole number/],
      [() => parseAction("set-max-pause", ["59"]), /must be from 60 s to 2592000 s \(30 days\), got 59 s/],
      [() => parseAction("set-budget-window", ["31d"]), /got 2678400 s/],
      [() => parseAction("set-budget-window", ["soon"]), /must be a duration in seconds, like 3600 or 1h/],
      [
        () => parseAction("add-target", [A], { pauseSelector: "0x1234", unpauseSelector: "unpause()" }),
        /--pause-selector must be 4 bytes of hex/,
      ],
      [
        () => parseAction("add-target", [A], { pauseSelector: "pause(bool)", unpauseSelector: "unpause()" }),
        /must take no arguments/,
      ],
      [
        () => parseAction("add-target", [A], { pauseSelector: "0x00000000", unpauseSelector: "unpause()" }),
        /must not be 0x00000000/,
      ],
      [
        () => parseAction("add-target", [A], { pauseSelector: "pause()" }),
        /give both --pause-selector and --unpause-selector/,
      ],
      [
        () => parseAction("add-target", [A], { pauseSelector: "pause()", unpauseSelector: "0x8456cb59" }),
        /must differ/,
      ],
      [() => parseAction("remove-target", [A], { pauseSelector: "pause()" }), /only apply to add-target/],
      [() => parseAction("remove-target", []), /remove-target takes <address> \(got 0 arguments\)/],
      [() => parseAction("accept-governance", [A]), /accept-governance takes no arguments/],
      [() => parseAction("pause-everything", []), /unknown governance action/],
    ];
    for (const [run, message] of cases) expect(inputError(run).message).toMatch(message);
  });

  it("encodes with the generated ABI, picking the addTarget overload by its arguments", () => {
    const plain = encodeAction({ kind: "add-target", target: A });
    expect(plain.data).toBe(encodeFunctionData({ abi: Guardian.abi, functionName: "addTarget", args: [A] }));
    expect(plain.contractMethod.inputs.map((i) => i.name)).toEqual(["target"]);
    const custom = encodeAction({
      kind: "add-target",
      target: A,
      selectors: { pause: DEFAULT_UNPAUSE_SELECTOR, unpause: DEFAULT_PAUSE_SELECTOR },
    });
    expect(custom.data).toBe(
      encodeFunctionData({
        abi: Guardian.abi,
        functionName: "addTarget",
        args: [A, DEFAULT_UNPAUSE_SELECTOR, DEFAULT_PAUSE_SELECTOR],
      }),
    );
    expect(custom.contractInputsValues).toEqual({
      target: A,
      pauseSelector: DEFAULT_UNPAUSE_SELECTOR,
      unpauseSelector: DEFAULT_PAUSE_SELECTOR,
    });
    expect(encodeAction({ kind: "accept-governance" }).data).toBe("0x238efcbc");
  });

  it("writes method and values that encode to exactly the same calldata (both import paths agree)", () => {
    const actions: GovernanceAction[] = [
      { kind: "add-sentinel", sentinel: A, budget: 7 },
      { kind: "remove-sentinel", sentinel: A },
      { kind: "set-budget", sentinel: A, budget: 3 },
      { kind: "add-target", target: A },
      { kind: "add-target", target: A, selectors: { pause: "0x11223344", unpause: "0x55667788" } },
      { kind: "remove-target", target: A },
      { kind: "set-max-pause", seconds: 3600 },
      { kind: "set-budget-window", seconds: 600 },
      { kind: "confirm-pause", target: A },
      { kind: "lift-pause", target: A },
      { kind: "transfer-governance", to: A },
      { kind: "accept-governance" },
    ];
    for (const action of actions) {
      const call = encodeAction(action);
      // What the Transaction Builder does with contractMethod + contractInputsValues.
      const fn: AbiFunction = {
        type: "function",
        name: call.contractMethod.name,
        inputs: call.contractMethod.inputs,
        outputs: [],
        stateMutability: "nonpayable",
      };
      const values = call.contractMethod.inputs.map((i) => {
        const v = call.contractInputsValues[i.name] ?? "";
        return i.type.startsWith("uint") ? BigInt(v) : v;
      });
      expect(encodeFunctionData({ abi: [fn], functionName: fn.name, args: values })).toBe(call.data);
      expect(Object.values(call.contractInputsValues).every((v) => typeof v === "string")).toBe(true);
    }
  });
});

describe("Safe Transaction Builder batch files", () => {
  it("serialises exactly like the Transaction Builder (its own test vector)", () => {
    // safe-global/safe-react-apps apps/tx-builder/src/lib/checksum.test.js: addChecksum over this
    // object (meta.checksum "") gives 0x832e…ffc9.
    const vector = {
      version: "1.0",
      chainId: "4",
      createdAt: 1646321521061,
      meta: {
        name: "test batch file",
        txBuilderVersion: "1.4.0",
        checksum: "",
        createdFromSafeAddress: "0xDF8a1Ce35c9a6ACE153B4e0767942f1E2291a1Aa",
        createdFromOwnerAddress: "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
      },
      transactions: [
        {
          to: "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
          value: "0",
          contractMethod: {
            inputs: [{ internalType: "address", name: "paramAddress", type: "address" }],
            name: "testAddress",
            payable: false,
          },
          contractInputsValues: { paramAddress: "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6" },
        },
        {
          to: "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
          value: "0",
          contractMethod: {
            inputs: [{ internalType: "bool", name: "paramBool", type: "bool" }],
            name: "testBool",
            payable: false,
          },
          contractInputsValues: { paramAddress: "", paramBool: "false" },
        },
        {
          to: "0x49d4450977E2c95362C13D3a31a09311E0Ea26A6",
          value: "2000000000000000000",
          data: "0x42f4579000000000000000000000000049d4450977e2c95362c13d3a31a09311e0ea26a6",
        },
      ],
    };
    expect(keccak256(stringToHex(serializeForChecksum(vector)))).toBe(
      "0x832ecdb6653751ed00b79dede73864163e46e71815b72e11e506d6399bedffc9",
    );
  });

  it("adds a checksum the app validates (computed without meta.checksum), which any edit breaks", () => {
    const file: BatchFile = {
      version: "1.0",
      chainId: "1",
      createdAt: 1,
      meta: {
        name: "n",
        description: "d",
        txBuilderVersion: "1.18.0",
        createdFromSafeAddress: A,
        createdFromOwnerAddress: "",
      },
      transactions: [{ to: A, value: "0", data: "0x238efcbc" }],
    };
    const signed = addChecksum(file);
    expect(validateChecksum(signed)).toBe(true);
    // Re-parsed from its JSON text, in another key order: still valid.
    const reparsed = JSON.parse(
      JSON.stringify({
        transactions: signed.transactions,
        meta: signed.meta,
        version: "1.0",
        chainId: "1",
        createdAt: 1,
      }),
    );
    expect(validateChecksum(reparsed as BatchFile)).toBe(true);
    expect(validateChecksum({ ...signed, transactions: [{ to: A, value: "1", data: "0x238efcbc" }] })).toBe(
      false,
    );
  });
});

describe("governance through the devnet Safe", () => {
  let net: RunningDevnet;
  let dir: string;
  let guardian: Address;
  let safe: Address;
  let market: Address;
  const ownersEnv = {
    VIGIL_OWNER_KEYS: `${devnetPrivateKey("safeOwner1")}, ${devnetPrivateKey("safeOwner3")}`,
  };

  beforeAll(async () => {
    net = await startDevnet({ blockTimeMs: 0, logger: silentLogger() });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vigil-gov-"));
    guardian = net.deployment.guardian.address;
    safe = net.deployment.safe.address;
    market = net.deployment.market;
  });

  afterAll(async () => {
    await net?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const connection = () => ({ guardian, rpc: net.anvil.rpcUrl, safe });
  const execute = (kind: Parameters<typeof runGovernanceAction>[0], args: string[], extra = {}) =>
    runGovernanceAction(
      kind,
      args,
      { ...connection(), execute: true, ownerKeysEnv: "VIGIL_OWNER_KEYS", mine: true, ...extra },
      ownersEnv,
    );

  it("hashes the SafeTx exactly as the Safe does, and writes an importable batch", async () => {
    const out = path.join(dir, "add-sentinel.json");
    const sentinel = devnetAccount("trader").address;
    const result = await runGovernanceAction("add-sentinel", [sentinel, "4"], {
      ...connection(),
      out,
      chainId: 31337,
    });
    const p = result.prepared;
    const onChain = await net.devnet.publicClient.readContract({
      address: safe,
      abi: Safe.abi,
      functionName: "getTransactionHash",
      args: [guardian, 0n, p.call.data, 0, 0n, 0n, 0n, zeroAddress, zeroAddress, p.safe.nonce],
    });
    expect(p.safeTxHash).toBe(onChain);
    const batch = JSON.parse(fs.readFileSync(out, "utf8")) as BatchFile;
    expect(batch).toMatchObject({
      version: "1.0",
      chainId: "31337",
      meta: { createdFromSafeAddress: safe, txBuilderVersion: expect.any(String) },
      transactions: [
        {
          to: guardian,
          value: "0",
          data: p.call.data,
          contractMethod: { name: "addSentinel", payable: false },
          contractInputsValues: { sentinel, budget: "4" },
        },
      ],
    });
    expect(batch.meta.description).toContain(p.safeTxHash);
    expect(validateChecksum(batch)).toBe(true);
  });

  it("refuses what the Guardian would refuse, before anything is signed", async () => {
    const sentinel = devnetAccount("sentinel").address;
    await expect(runGovernanceAction("add-sentinel", [sentinel, "5"], connection())).rejects.toThrow(
      /the Guardian would refuse this: 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 is already a sentinel/,
    );
    await expect(
      runGovernanceAction("add-target", [devnetAccount("trader").address], connection()),
    ).rejects.toThrow(/has no code: a target must be a deployed contract/);
    await expect(runGovernanceAction("confirm-pause", [market], connection())).rejects.toThrow(
      /the Guardian has no pause recorded for/,
    );
    await expect(
      runGovernanceAction("remove-sentinel", [sentinel], {
        ...connection(),
        safe: devnetAccount("whale").address,
      }),
    ).rejects.toThrow(/does not answer as a Safe/);
    await expect(runGovernanceAction("accept-governance", [], connection())).rejects.toThrow(
      /no governance transfer is pending/,
    );
    await expect(
      runGovernanceAction("set-max-pause", ["1h"], { ...connection(), chainId: 1 }),
    ).rejects.toThrow(/on chain 31337, not 1/);
    await expect(
      runGovernanceAction("set-max-pause", ["1h"], { ...connection(), guardian: net.deployment.tokens.usd }),
    ).rejects.toThrow(/does not answer governance\(\)/);
  });

  it("never shows owner keys, and checks them against the Safe's owners and threshold", async () => {
    const key = devnetPrivateKey("safeOwner2");
    let message = "";
    try {
      ownerKeysFromEnv("K", { K: `${key},${key.slice(0, -1)}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/key #2 in K is not a private key/);
    expect(message).not.toContain(key.slice(2, 20));
    expect(() => ownerKeysFromEnv("K", {})).toThrow(/Environment variable K is not set/);

    const oneOwner = { VIGIL_OWNER_KEYS: devnetPrivateKey("safeOwner1") };
    await expect(
      runGovernanceAction(
        "set-max-pause",
        ["2h"],
        { ...connection(), execute: true, ownerKeysEnv: "VIGIL_OWNER_KEYS", mine: true },
        oneOwner,
      ),
    ).rejects.toThrow(/the Safe needs 2 owner signatures, 1 owner key was given/);
    const stranger = { VIGIL_OWNER_KEYS: `${devnetPrivateKey("safeOwner1")},${devnetPrivateKey("whale")}` };
    await expect(
      runGovernanceAction(
        "set-max-pause",
        ["2h"],
        { ...connection(), execute: true, ownerKeysEnv: "VIGIL_OWNER_KEYS", mine: true },
        stranger,
      ),
    ).rejects.toThrow(`key #2 (${devnetAccount("whale").address}) is not an owner`);
    await expect(
      runGovernanceAction("set-max-pause", ["2h"], { ...connection(), execute: true }),
    ).rejects.toThrow(/--execute needs --owner-keys-env/);
  });

  it("executes every setting through the Safe, visible in status", async () => {
    const newSentinel = devnetAccount("arbitrageur").address;
    await execute("add-sentinel", [newSentinel, "3"]);
    await execute("set-budget", [newSentinel, "9"]);
    await execute("set-max-pause", ["2h"]);
    await execute("set-budget-window", ["10m"]);
    // A contract with custom selectors (the USD token has code; addTarget does not call it).
    const usd = net.deployment.tokens.usd;
    await execute("add-target", [usd], { pauseSelector: "halt()", unpauseSelector: "resume()" });

    let status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.maxPauseDurationSec).toBe(7200);
    expect(status.budgetWindowSec).toBe(600);
    expect(status.sentinels.find((s) => s.address === newSentinel)).toMatchObject({
      budget: 9,
      usedInWindow: 0,
      left: 9,
    });
    expect(status.targets.find((t) => t.address === usd)).toMatchObject({
      pauseSelector: toFunctionSelector("halt()"),
      unpauseSelector: toFunctionSelector("resume()"),
      pause: null,
    });

    await execute("remove-target", [usd]);
    await execute("remove-sentinel", [newSentinel]);
    status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.targets.map((t) => t.address)).toEqual([market]);
    expect(status.sentinels.map((s) => s.address)).toEqual([devnetAccount("sentinel").address]);
  });

  it("shows a sentinel's pause, its expiry and budget, and governance confirms then lifts it", async () => {
    const sentinel = devnetAccount("sentinel");
    const incident = keccak256(toHex("incident-1"));
    await execAndMine(net.devnet, sentinel, {
      to: guardian,
      data: encodeFunctionData({ abi: Guardian.abi, functionName: "pause", args: [[market], incident] }),
    });
    let status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.pauses).toEqual([
      expect.objectContaining({
        target: market,
        incidentId: incident,
        sentinel: sentinel.address,
        confirmed: false,
        state: "active",
        targetPaused: true,
        expiresAt: expect.any(Number),
      }),
    ]);
    const pause = status.pauses[0];
    expect((pause?.expiresAt ?? 0) - (pause?.pausedAt ?? 0)).toBe(7200);
    expect(status.sentinels[0]).toMatchObject({ usedInWindow: 1, left: 19 });
    const text = formatGuardianStatus(status);
    expect(text).toContain(`incident ${incident}`);
    expect(text).toMatch(/ACTIVE: expires .* \(in 2h\) unless confirmed/);
    expect(text).toMatch(/paused \(active\)/);

    // Removing a paused target is refused with the way out.
    await expect(runGovernanceAction("remove-target", [market], connection())).rejects.toThrow(
      /still paused by the Guardian: lift the pause first \(lift-pause/,
    );

    await execute("confirm-pause", [market]);
    status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.pauses[0]).toMatchObject({ confirmed: true, state: "confirmed" });
    expect(formatGuardianStatus(status)).toContain("CONFIRMED: held until governance lifts it");

    await execute("lift-pause", [market]);
    status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.pauses).toEqual([]);
    expect(status.targets[0]?.pause).toBeNull();
  });

  it("hands governance to a new Safe in two steps (transfer, then accept from the new Safe)", async () => {
    const owners = [devnetAccount("safeOwner2").address, devnetAccount("safeOwner3").address];
    const newSafe = await createSafe(
      net.devnet,
      devnetAccount("deployer"),
      net.deployment.safe,
      owners,
      2,
      7n,
    );
    await execute("transfer-governance", [newSafe]);
    let status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.pendingGovernance).toBe(newSafe);
    expect(status.governance).toBe(safe);

    // The old Safe cannot accept; the new one with its owners can.
    await expect(runGovernanceAction("accept-governance", [], connection())).rejects.toThrow(
      /the pending governance is .*, not the Safe/,
    );
    const newOwners = {
      VIGIL_OWNER_KEYS: `${devnetPrivateKey("safeOwner2")},${devnetPrivateKey("safeOwner3")}`,
    };
    await runGovernanceAction(
      "accept-governance",
      [],
      { ...connection(), safe: newSafe, execute: true, ownerKeysEnv: "VIGIL_OWNER_KEYS", mine: true },
      newOwners,
    );
    status = await readGuardianStatus(net.devnet.publicClient, guardian);
    expect(status.governance).toBe(getAddress(newSafe));
    expect(status.pendingGovernance).toBeNull();

    // The old Safe is no longer governance: its transactions are refused up front.
    await expect(runGovernanceAction("set-max-pause", ["1h"], connection())).rejects.toThrow(
      /is not the Guardian's governance/,
    );
    // Hand it back so the remaining tests see the world's Safe.
    await runGovernanceAction(
      "transfer-governance",
      [safe],
      { ...connection(), safe: newSafe, execute: true, ownerKeysEnv: "VIGIL_OWNER_KEYS", mine: true },
      newOwners,
    );
    await execute("accept-governance", []);
    expect((await readGuardianStatus(net.devnet.publicClient, guardian)).governance).toBe(safe);
  });

  it("the commands end to end: execute with `vigil governance`, then read `vigil governance status`", async () => {
    const vigil = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["bin/vigil.js", ...args], {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, ...env },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        child.once("exit", (code) => resolve({ code, stdout, stderr }));
      });
    const common = ["--guardian", guardian, "--rpc", net.anvil.rpcUrl];
    const whale = devnetAccount("whale").address;
    const out = path.join(dir, "cli-batch.json");
    const run = await vigil(
      [
        "governance",
        "add-sentinel",
        whale,
        "2",
        ...common,
        "--safe",
        safe,
        "--out",
        out,
        "--execute",
        "--owner-keys-env",
        "VIGIL_OWNER_KEYS",
        "--mine",
        "--json",
      ],
      ownersEnv,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      safeTxHash: Hex;
      executed: { txHash: Hex };
      batchFile: string;
    };
    expect(result.batchFile).toBe(out);
    expect(result.executed.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    for (const k of ownersEnv.VIGIL_OWNER_KEYS.split(","))
      expect(run.stdout).not.toContain(k.trim().slice(2));

    const status = await vigil(["governance", "status", ...common, "--json"]);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      sentinels: { address: string; budget: number; left: number }[];
    };
    expect(parsed.sentinels).toContainEqual(expect.objectContaining({ address: whale, budget: 2, left: 2 }));

    const readable = await vigil(["governance", "status", ...common]);
    expect(readable.stdout).toContain("Sentinels: who may pause (2)");
    expect(readable.stdout).toContain(whale);

    const bad = await vigil(["governance", "set-budget-window", "5", ...common, "--safe", safe]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/the budget window must be from 60 s to 2592000 s/);
  });
});
