import { execFileSync } from "node:child_process";

/** Process ids of running `anvil` binaries. */
function anvilPids(): Set<string> {
  try {
    return new Set(execFileSync("pgrep", ["-x", "anvil"], { encoding: "utf8" }).split("\n").filter(Boolean));
  } catch {
    return new Set(); // pgrep exits 1 when nothing matches
  }
}

let before = new Set<string>();

export function setup(): void {
  before = anvilPids();
}

/** The suite must leave no Anvil behind: fail the run if one it started is still alive. */
export async function teardown(): Promise<void> {
  let leftovers: string[] = [];
  for (let i = 0; i < 20; i++) {
    leftovers = [...anvilPids()].filter((p) => !before.has(p));
    if (leftovers.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the test suite left Anvil processes running: pids ${leftovers.join(", ")}`);
}
