/**
 * Report formats: which one a file name asks for, and rendering a run in it.
 * Every format module is pure (a ReportRun in, text out).
 */
import { BulwarkError } from "../errors.ts";
import type { ReportRun } from "./model.ts";

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

/**
 * RUN rendered in FORMAT. Each renderer is required when its format is asked for, not imported: a
 * `check` or `remediate` without --report evaluates none of them (the HTML one is the largest module).
 */
export function renderReport(run: ReportRun, format: ReportFormat): string {
  switch (format) {
    case "html":
      return (require("./html.ts") as typeof import("./html.ts")).renderHtml(run);
    case "sarif":
      return (require("./sarif.ts") as typeof import("./sarif.ts")).renderSarif(run);
    case "oscal":
      return (require("./oscal.ts") as typeof import("./oscal.ts")).renderOscal(run);
    case "junit":
      return (require("./junit.ts") as typeof import("./junit.ts")).renderJunit(run);
    case "json":
      return (require("./json.ts") as typeof import("./json.ts")).renderJson(run);
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
