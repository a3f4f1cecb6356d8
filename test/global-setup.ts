import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";

/**
 * Every process this run starts inherits this variable (vitest's workers, and the Anvils they
 * spawn): an Anvil left running is told from one another program started meanwhile.
 */
const MARK = "VIGIL_TEST_RUN";

/** Process ids of running `anvil` binaries started by this run. */
function ourAnvils(run: string): string[] {
  let pids: string[];
  try {
    pids = execFileSync("pgrep", ["-x", "anvil"], { encoding: "utf8" }).split("\n").filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return pids.filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${MARK}=${run}`);
    } catch {
      return false; // gone meanwhile
    }
  });
}

let run = "";

export function setup(): void {
  run = randomUUID();
  process.env[MARK] = run;
}

/** The suite must leave no Anvil behind: fail the run if one it started is still alive. */
export async function teardown(): Promise<void> {
  let leftovers: string[] = [];
  for (let i = 0; i < 20; i++) {
    leftovers = ourAnvils(run);
    if (leftovers.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Vitest reports an error thrown here but does not fail the run for it: say so with the exit code.
  process.exitCode = 1;
  throw new Error(`the test suite left Anvil processes running: pids ${leftovers.join(", ")}`);
}
