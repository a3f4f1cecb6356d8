import { Command } from "commander";
import { VigilError } from "../internal/errors.ts";
import { registerDevnet } from "./devnet.ts";
import { registerDrill } from "./drill.ts";
import { registerRun } from "./run.ts";
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Typed errors carry their own explanation and hint; anything else is a bug worth a stack.
  process.stderr.write(
    `vigil: ${error instanceof VigilError ? error.message : String((error as Error)?.stack ?? error)}\n`,
  );
  process.exitCode = 1;
}
