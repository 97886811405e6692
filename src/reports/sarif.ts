/**
 * SARIF 2.1.0 for code-scanning dashboards: one result per rule, with kind
 * pass / fail / notApplicable / review (an error: no verdict), the evidence as
 * the message, and the file and line the verdict rests on as a location
 * relative to the target's root (uriBaseId TARGETROOT).
 */
import { runScore } from "./run-score.ts";
import { waiverText } from "./waiver.ts";
import { evidenceLocations } from "./locations.ts";
import type { ReportRule, ReportRun } from "./model.ts";

const LEVEL: Record<string, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };

function kindOf(r: ReportRule): { kind: string; level: string } {
  switch (r.verdict) {
    case "pass":
      return { kind: "pass", level: "none" };
    case "fail":
      return { kind: "fail", level: LEVEL[r.severity] ?? "warning" };
    case "not-applicable":
    case "waived":
      return { kind: "notApplicable", level: "none" };
    default:
      return { kind: "review", level: "none" };
  }
}

/** A root path as a file URI with a trailing slash ("/" → "file:///"). */
function rootUri(root: string): string {
  const abs = root.endsWith("/") ? root : `${root}/`;
  return `file://${abs.split("/").map(encodeURIComponent).join("/")}`;
}

/** The SARIF 2.1.0 log of RUN, pretty-printed. */
export function renderSarif(run: ReportRun): string {
  const ruleIds = [...new Set(run.rules.map((r) => r.id))];
  const byId = new Map(run.rules.map((r) => [r.id, r]));
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "bulwark",
            version: run.meta.tool.version,
            properties: { commit: run.meta.tool.commit },
            rules: ruleIds.map((id) => {
              const r = byId.get(id)!;
              return {
                id,
                shortDescription: { text: r.title || id },
                defaultConfiguration: { level: LEVEL[r.severity] ?? "warning" },
                properties: { severity: r.severity, tags: [...r.refs.cis, ...r.refs.stig, ...r.refs.nist.map((n) => `NIST-800-53 ${n}`)] },
              };
            }),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: run.meta.started_at,
            endTimeUtc: run.meta.finished_at,
            ...(run.meta.host.name ? { machine: run.meta.host.name } : {}),
          },
        ],
        originalUriBaseIds: { TARGETROOT: { uri: rootUri(run.meta.host.root) } },
        results: run.rules.map((r) => {
          const { kind, level } = kindOf(r);
          const locations = evidenceLocations(r.evidence).map((l) => ({
            physicalLocation: {
              artifactLocation: { uri: l.path.slice(1).split("/").map(encodeURIComponent).join("/"), uriBaseId: "TARGETROOT" },
              ...(l.line ? { region: { startLine: l.line } } : {}),
            },
          }));
          return {
            ruleId: r.id,
            ruleIndex: ruleIds.indexOf(r.id),
            kind,
            level,
            message: { text: `${r.verdict}: ${r.evidence || r.title}` },
            ...(locations.length ? { locations } : {}),
            // A waiver is what SARIF calls an accepted external suppression: dashboards hide it and say why.
            ...(r.waiver ? { suppressions: [{ kind: "external", status: "accepted", justification: waiverText(r.waiver), properties: { owner: r.waiver.owner, expires: r.waiver.expires } }] } : {}),
            properties: {
              verdict: r.verdict,
              ...(r.waiver ? { waiver: r.waiver } : {}),
              ...(r.change ? { transaction: r.change.txnId, transactionStatus: r.change.status, rollback: r.change.rollback } : {}),
            },
          };
        }),
        properties: { bulwark: { run: { kind: run.kind, id: run.runId }, meta: run.meta, score: runScore(run) } },
      },
    ],
  };
  return JSON.stringify(log, null, 2) + "\n";
}
