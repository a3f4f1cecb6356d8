import { Command } from "commander";
import { VigilError } from "../internal/errors.ts";
import { registerConfigCheck } from "./config-check.ts";
import { registerDevnet } from "./devnet.ts";
import { registerDrill } from "./drill.ts";
import { registerGovernance } from "./governance.ts";
import { registerKeystore } from "./keystore.ts";
import { registerRun } from "./run.ts";
import { registerShadowReport } from "./shadow-report.ts";
import { registerSimulate } from "./simulate.ts";
import { registerVerifyRecords } from "./verify-records.ts";

const program = new Command()
  .name("vigil")
  .description(
    "Guardian bot for DeFi protocols: sees an attack in the mempool, proves it on a fork, pauses ahead of it",
  )
  .showHelpAfterError();

registerDrill(program);
registerRun(program);
registerSimulate(program);
registerDevnet(program);
registerVerifyRecords(program);
registerGovernance(program);
registerConfigCheck(program);
registerKeystore(program);
registerShadowReport(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Typed errors carry their own explanation and hint; anything else is a bug worth a stack.
  process.stderr.write(
    `vigil: ${error instanceof VigilError ? error.message : String((error as Error)?.stack ?? error)}\n`,
  );
  process.exitCode = 1;
}

// Every command has stopped what it started by now (sockets, Anvil children). Exit explicitly so
// that a library's leftover timer (e.g. @viem/anvil's stop timeout) cannot hold the process for
// seconds, after letting piped output drain (writes to a pipe are asynchronous).
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
process.exit(process.exitCode ?? 0);
