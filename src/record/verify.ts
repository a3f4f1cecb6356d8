import { type VerifyResult, verifyIncidentLog } from "./incidents.ts";

/**
 * Human-readable lines for `vigil verify-records <path>`. Line numbers are 1-based (line 1 holds
 * seq 0), as an editor shows them.
 */
export function formatVerifyResult(result: VerifyResult, path?: string): string[] {
  const name = path ?? "incident record";
  if (result.ok) {
    const lines = [
      `OK: ${name}: hash chain intact`,
      `  ${result.lines} ${plural(result.lines, "line", "lines")}, ${result.incidents} ${plural(result.incidents, "incident", "incidents")}`,
    ];
    if (result.head) {
      lines.push(
        `  head: seq ${result.head.seq}, hash ${result.head.hash}`,
        "  (lines cut from the end cannot be detected by the chain alone: compare this head with one kept elsewhere)",
      );
    }
    return lines;
  }
  const trusted = result.badLine - 1;
  return [
    `BROKEN: ${name}: line ${result.badLine} of ${result.lines}`,
    `  ${result.problem}`,
    trusted > 0
      ? `  Lines 1-${trusted} are intact; line ${result.badLine} and every line after it cannot be trusted.`
      : "  No line of this file can be trusted.",
    "  Keep the file unchanged as evidence; start a new record file for the daemon.",
  ];
}

/** Verifies a record file and formats the result: what the CLI command prints, and its exit code. */
export async function verifyRecords(
  path: string,
): Promise<{ ok: boolean; lines: string[]; exitCode: 0 | 1 }> {
  const result = await verifyIncidentLog(path);
  return { ok: result.ok, lines: formatVerifyResult(result, path), exitCode: result.ok ? 0 : 1 };
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
