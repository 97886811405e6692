/**
 * Report formats: which one a file name asks for, and rendering a run in it.
 * Every format module is pure (a ReportRun in, text out).
 */
import { BulwarkError } from "../errors.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderJunit } from "./junit.ts";
import type { ReportRun } from "./model.ts";
import { renderOscal } from "./oscal.ts";
import { renderSarif } from "./sarif.ts";

export const REPORT_FORMATS = ["html", "sarif", "oscal", "junit", "json"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A report file whose format cannot be told from its name. */
export class ReportFormatUnknown extends BulwarkError {}

// Longest suffix first: ".oscal.json" and ".sarif.json" before ".json", ".junit.xml" before ".xml".
const BY_SUFFIX: [string, ReportFormat][] = [
  [".oscal.json", "oscal"],
  [".sarif.json", "sarif"],
  [".junit.xml", "junit"],
  [".sarif", "sarif"],
  [".html", "html"],
  [".htm", "html"],
  [".xml", "junit"],
  [".json", "json"],
];

/** The format FILE's name asks for (case-insensitive suffix); EXPLICIT (--report-format) wins. */
export function reportFormatFor(file: string, explicit?: string): ReportFormat {
  if (explicit !== undefined) {
    if ((REPORT_FORMATS as readonly string[]).includes(explicit)) return explicit as ReportFormat;
    throw new ReportFormatUnknown(`--report-format must be one of ${REPORT_FORMATS.join(", ")} (got "${explicit}")`);
  }
  const lower = file.toLowerCase();
  const hit = BY_SUFFIX.find(([s]) => lower.endsWith(s));
  if (!hit) {
    throw new ReportFormatUnknown(
      `--report ${file}: cannot tell the format from the name; end it in .html, .sarif (.sarif.json), .oscal.json, .junit.xml (.xml) or .json, or give --report-format`,
    );
  }
  return hit[1];
}

/** RUN rendered in FORMAT. */
export function renderReport(run: ReportRun, format: ReportFormat): string {
  switch (format) {
    case "html":
      return renderHtml(run);
    case "sarif":
      return renderSarif(run);
    case "oscal":
      return renderOscal(run);
    case "junit":
      return renderJunit(run);
    case "json":
      return renderJson(run);
  }
}

export { loadRun, loadTxn, RunNotFound, type AfterRead, type LoadContext } from "./load.ts";
export { readTargetIdentity, runMeta, type RunMeta, type TargetIdentity } from "./metadata.ts";
export type { ReportRun, ReportRule } from "./model.ts";
export { verdictOfCheck } from "./model.ts";
export { flattenRefs } from "./refs.ts";
export { checkReport, type CheckedRule } from "./build.ts";
export { checkChanges, type CheckChanges, type RuleStatus } from "./changes.ts";
export { checkTrend, type CheckRunLine } from "./trend.ts";
