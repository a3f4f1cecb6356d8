import type { Command } from "commander";
import { verifyIncidentLog } from "../record/incidents.ts";
import { formatVerifyResult } from "../record/verify.ts";

export function registerVerifyRecords(program: Command): void {
  program
    .command("verify-records")
    .description("check the hash chain of an incident record file")
    .argument("<file>", "incident record (JSON lines)")
    .option("--json", "print one JSON document")
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await verifyIncidentLog(file);
      process.stdout.write(
        opts.json ? `${JSON.stringify(result)}\n` : `${formatVerifyResult(result, file).join("\n")}\n`,
      );
      process.exitCode = result.ok ? 0 : 1;
    });
}
