import { defineCommand } from "citty";
import { profileArgs, setArgs, variablesFor } from "../benchmark.ts";
import { loadRules } from "../context.ts";
import { EXIT, UsageError } from "../errors.ts";
import { defineArgs, formatFlag, listFlag, outputArgs, selectionArgs, type FlagValues } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { platformText, referenceLines } from "../render/rule-text.ts";

const rulesDirArg = defineArgs({ "rules-dir": selectionArgs["rules-dir"] });

export const rulesShowCommand = defineCommand({
  meta: {
    name: "show",
    description:
      "Show one rule in full: title, description, rationale, references, platforms, and each implementation's check and remediation steps.\n\n" +
      "Examples:\n" +
      "  bulwark rules show kmod-disable-cramfs\n" +
      "  bulwark rules show sysctl-kernel-kptr-restrict --format json\n" +
      "  bulwark rules show my-rule --rules-dir ./my-rules",
  },
  args: {
    id: { type: "positional", description: "The rule id (see bulwark rules list). Example: kmod-disable-cramfs" },
    ...rulesDirArg,
    ...setArgs,
    profile: { ...profileArgs.profile, description: "Show variable values as under this profile (the STIG's values under stig). Example: --profile stig" },
    ...outputArgs,
  },
  run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const rules = loadRules(listFlag(data as FlagValues, "rules-dir"), variablesFor(data as FlagValues));
    const rule = rules.find((r) => r.id === args.id);
    if (!rule) throw new UsageError(`rules show: unknown rule id ${args.id} (see bulwark rules list)`);
    const doc = {
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      category: rule.category,
      tags: rule.tags,
      description: rule.description,
      rationale: rule.rationale,
      references: rule.references,
      platforms: rule.platforms,
      depends_on: rule.dependsOn,
      implementations: rule.implementations.map((i) => ({
        ...(i.when !== undefined ? { when: i.when } : {}),
        default: i.default,
        checks: i.checks.map((c) => ({ method: c.method, params: c.params })),
        steps: i.steps.map((s) => ({ mechanism: s.mechanism, params: s.params })),
        ...(i.unavailable ? { unavailable: i.unavailable } : {}),
      })),
      variables: rule.variables,
      source: rule.source,
    };
    if (out.format === "json") out.json({ rule: doc });
    else if (out.format === "jsonl") out.jsonl([{ type: "rule", ...doc }], { type: "summary", total: 1 });
    else {
      out.line(`${out.p.bold(doc.id)}  ${doc.title}`);
      out.line(`severity: ${doc.severity}   category: ${doc.category || "-"}   tags: ${doc.tags.join(", ") || "-"}`);
      out.line(`platforms: ${doc.platforms.map(platformText).join("; ") || "any"}`);
      if (doc.depends_on.length) out.line(`depends on: ${doc.depends_on.join(", ")} (not applicable where their package or unit is missing)`);
      out.line(`source: ${doc.source}`);
      out.line("");
      out.line(doc.description);
      out.line("");
      out.line(`Rationale: ${doc.rationale}`);
      for (const [n, i] of doc.implementations.entries()) {
        out.line("");
        out.line(`implementation ${n + 1}${i.default ? " (default)" : ""}${i.when !== undefined ? ` when ${JSON.stringify(i.when)}` : ""}${i.unavailable ? ` — unavailable: ${i.unavailable}` : ""}`);
        for (const c of i.checks) out.line(`  check ${c.method} ${JSON.stringify(c.params)}`);
        for (const s of i.steps) out.line(`  step  ${s.mechanism} ${JSON.stringify(s.params)}`);
      }
      const vars = Object.entries(doc.variables);
      if (vars.length) {
        out.line("");
        out.line("variables in force:");
        for (const [name, val] of vars) out.line(`  ${name} = ${val.value === null ? "(not set: the site must give it)" : JSON.stringify(val.value)}  (${val.from})`);
      }
      // Per benchmark: CIS section, level and type; STIG ids; other kinds as written.
      const refs = referenceLines(doc.references as Record<string, unknown>);
      if (refs.length) {
        out.line("");
        out.line("references:");
        for (const l of refs) out.line(l);
      }
    }
    return EXIT.ok;
  },
});
