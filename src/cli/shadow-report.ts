import type { Command } from "commander";
import { table } from "../internal/table.ts";
import { type IncidentSummary, readIncidents, verifyIncidentLog } from "../record/incidents.ts";

/**
 * `vigil shadow-report`: what Vigil would have paused, when and why, from an incident record, for
 * the governance review before automatic response is switched on. Reads the record (its hash
 * chain verified first) and summarises: every would-be pause with its score, top reasons and
 * outcome; alerts counted; per target and per rule totals; the score distribution.
 */

export type ReportedIncident = {
  incidentId: string;
  at: string;
  decision: "alert" | "pause";
  score: number;
  targets: string[];
  tx: { hash: string; from: string; to: string | null };
  topReasons: { rule: string; contribution: number; detail: string }[];
  outcome: string;
  /** Milliseconds from first sight to the decision, when recorded. */
  decidedInMs?: number;
};

export type TargetSummary = {
  target: string;
  incidents: number;
  wouldPause: number;
  alerts: number;
  maxScore: number;
  firstAt: string;
  lastAt: string;
  topRules: { rule: string; count: number }[];
};

export type ShadowReport = {
  records: string;
  chain: { ok: boolean; lines: number; problem?: string };
  period: { from: string; to: string } | null;
  totals: { incidents: number; wouldPause: number; alerts: number; unopened: number };
  /** Outcomes of would-be pauses; "shadow" means decided and nothing sent. */
  outcomes: Record<string, number>;
  pauses: ReportedIncident[];
  alerts: ReportedIncident[];
  targets: TargetSummary[];
  rules: { rule: string; incidents: number; inPauses: number; meanContribution: number }[];
  /** Incidents per score band [lo, hi). */
  scores: { band: string; alerts: number; pauses: number }[];
};

const TOP = 3;
const BANDS = [0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function report(s: IncidentSummary): ReportedIncident | undefined {
  const o = s.opened;
  if (!o) return undefined;
  const reasons = [...o.reasons].sort((a, b) => b.contribution - a.contribution);
  const decided = o.timings.scoredMs;
  return {
    incidentId: s.incidentId,
    at: iso(o.at),
    decision: o.decision,
    score: o.score,
    targets: o.targets,
    tx: { hash: o.tx.hash, from: o.tx.from, to: o.tx.to },
    topReasons: reasons.slice(0, TOP),
    outcome: s.outcome ?? (o.decision === "pause" ? "unresolved" : "alert only"),
    ...(typeof decided === "number" ? { decidedInMs: Math.round(decided) } : {}),
  };
}

export async function buildShadowReport(
  path: string,
  options: { allowBroken?: boolean } = {},
): Promise<ShadowReport> {
  const verified = await verifyIncidentLog(path);
  const incidents = await readIncidents(path, { allowBroken: options.allowBroken === true });
  const reported = incidents.flatMap((s) => {
    const r = report(s);
    return r ? [r] : [];
  });
  const pauses = reported.filter((r) => r.decision === "pause");
  const alerts = reported.filter((r) => r.decision === "alert");

  const outcomes: Record<string, number> = {};
  for (const r of pauses) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;

  const byTarget = new Map<string, { rows: ReportedIncident[]; rules: Map<string, number> }>();
  const byRule = new Map<string, { incidents: number; inPauses: number; sum: number }>();
  for (const r of reported) {
    for (const t of r.targets.length > 0 ? r.targets : ["(none)"]) {
      const entry = byTarget.get(t) ?? { rows: [] as ReportedIncident[], rules: new Map<string, number>() };
      entry.rows.push(r);
      for (const reason of r.topReasons)
        entry.rules.set(reason.rule, (entry.rules.get(reason.rule) ?? 0) + 1);
      byTarget.set(t, entry);
    }
  }
  for (const s of incidents) {
    for (const reason of s.opened?.reasons ?? []) {
      const e = byRule.get(reason.rule) ?? { incidents: 0, inPauses: 0, sum: 0 };
      e.incidents += 1;
      if (s.opened?.decision === "pause") e.inPauses += 1;
      e.sum += reason.contribution;
      byRule.set(reason.rule, e);
    }
  }
  const targets: TargetSummary[] = [...byTarget.entries()]
    .map(([target, { rows, rules }]) => ({
      target,
      incidents: rows.length,
      wouldPause: rows.filter((r) => r.decision === "pause").length,
      alerts: rows.filter((r) => r.decision === "alert").length,
      maxScore: Math.max(...rows.map((r) => r.score)),
      firstAt: rows.map((r) => r.at).sort()[0] ?? "",
      lastAt:
        rows
          .map((r) => r.at)
          .sort()
          .at(-1) ?? "",
      topRules: [...rules.entries()]
        .map(([rule, count]) => ({ rule, count }))
        .sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule))
        .slice(0, TOP),
    }))
    .sort((a, b) => b.wouldPause - a.wouldPause || b.incidents - a.incidents);

  const scores = BANDS.slice(0, -1).map((lo, i) => {
    const hi = BANDS[i + 1] ?? 1;
    const inBand = (r: ReportedIncident) => r.score >= lo && r.score < hi;
    return {
      band: `${lo.toFixed(1)}-${Math.min(hi, 1).toFixed(1)}`,
      alerts: alerts.filter(inBand).length,
      pauses: pauses.filter(inBand).length,
    };
  });

  const times = reported.map((r) => r.at).sort();
  return {
    records: path,
    chain: verified.ok
      ? { ok: true, lines: verified.lines }
      : { ok: false, lines: verified.lines, problem: `line ${verified.badLine}: ${verified.problem}` },
    period: times.length > 0 ? { from: times[0] ?? "", to: times.at(-1) ?? "" } : null,
    totals: {
      incidents: incidents.length,
      wouldPause: pauses.length,
      alerts: alerts.length,
      unopened: incidents.length - reported.length,
    },
    outcomes,
    pauses,
    alerts,
    targets,
    rules: [...byRule.entries()]
      .map(([rule, e]) => ({
        rule,
        incidents: e.incidents,
        inPauses: e.inPauses,
        meanContribution: Number((e.sum / e.incidents).toFixed(3)),
      }))
      .sort((a, b) => b.incidents - a.incidents || a.rule.localeCompare(b.rule)),
    scores,
  };
}

export function formatShadowReport(r: ShadowReport): string {
  const out: string[] = [];
  out.push(`Shadow report: ${r.records}`);
  out.push(
    r.chain.ok
      ? `  record verified: ${r.chain.lines} line(s), hash chain intact`
      : `  RECORD BROKEN (${r.chain.problem}): only the lines before it are summarised; treat with suspicion`,
  );
  out.push(r.period ? `  period: ${r.period.from} .. ${r.period.to}` : "  no incidents recorded");
  out.push(
    `  ${r.totals.incidents} incident(s): ${r.totals.wouldPause} would have paused, ${r.totals.alerts} alert(s) only` +
      (r.totals.unopened > 0 ? `, ${r.totals.unopened} without an opening event` : ""),
  );
  if (Object.keys(r.outcomes).length > 0) {
    out.push(
      `  pause outcomes: ${Object.entries(r.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}  ("shadow" = decided, nothing sent)`,
    );
  }

  out.push("", "What would have been paused, when and why");
  if (r.pauses.length === 0) out.push("  nothing");
  for (const p of r.pauses) {
    out.push(
      `  ${p.at}  score ${p.score.toFixed(2)}  ${p.outcome}${p.decidedInMs === undefined ? "" : `  decided ${p.decidedInMs} ms after first sight`}`,
      `    targets  ${p.targets.join(", ") || "(none)"}`,
      `    tx       ${p.tx.hash} from ${p.tx.from} to ${p.tx.to ?? "(create)"}`,
      `    incident ${p.incidentId}`,
      ...p.topReasons.map((x) => `    why      ${x.rule} (+${x.contribution.toFixed(2)}): ${x.detail}`),
    );
  }

  out.push("", "Per target");
  if (r.targets.length === 0) out.push("  none");
  else
    out.push(
      ...table(
        ["target", "pauses", "alerts", "max score", "last", "top rules"],
        r.targets.map((t) => [
          t.target,
          String(t.wouldPause),
          String(t.alerts),
          t.maxScore.toFixed(2),
          t.lastAt,
          t.topRules.map((x) => `${x.rule} x${x.count}`).join(", "),
        ]),
      ),
    );

  out.push("", "Rules");
  if (r.rules.length === 0) out.push("  none");
  else
    out.push(
      ...table(
        ["rule", "incidents", "in pauses", "mean contribution"],
        r.rules.map((x) => [x.rule, String(x.incidents), String(x.inPauses), x.meanContribution.toFixed(3)]),
      ),
    );

  out.push("", "Scores");
  out.push(
    ...table(
      ["band", "alerts", "pauses"],
      r.scores
        .filter((b) => b.alerts + b.pauses > 0)
        .map((b) => [b.band, String(b.alerts), String(b.pauses)]),
    ),
  );
  if (r.alerts.length > 0) {
    out.push("", `Alerts (${r.alerts.length}, below the pause threshold)`);
    for (const a of r.alerts.slice(-20)) {
      out.push(
        `  ${a.at}  score ${a.score.toFixed(2)}  ${a.targets.join(", ") || "(none)"}  ${a.topReasons[0]?.rule ?? ""}  tx ${a.tx.hash}`,
      );
    }
    if (r.alerts.length > 20) out.push(`  (${r.alerts.length - 20} earlier ones in --json)`);
  }
  out.push(
    "",
    "Review every would-be pause: a benign transaction listed above would have paused its target",
    "(until the pause expired or governance lifted it). Tune thresholds before enabling active mode.",
  );
  return out.join("\n");
}

export function registerShadowReport(program: Command): void {
  program
    .command("shadow-report")
    .description(
      "what Vigil would have paused, when and why: a summary of incident records for governance review",
    )
    .requiredOption("--records <file>", "incident record (JSON lines, the daemon's record.path)")
    .option("--allow-broken", "summarise the lines before a broken hash chain instead of refusing")
    .option("--json", "print one JSON document")
    .action(async (opts: { records: string; allowBroken?: boolean; json?: boolean }) => {
      const r = await buildShadowReport(opts.records, { allowBroken: opts.allowBroken === true });
      process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatShadowReport(r)}\n`);
    });
}
