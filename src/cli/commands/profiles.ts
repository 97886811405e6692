import { defineCommand } from "citty";
import { ALL_PROFILE, DEFAULT_PROFILE, profileCounts, referenceKey } from "../../rules/profiles.ts";
import { ruleApplies } from "../../rules/select.ts";
import { buildHost, loadRules, readOs } from "../context.ts";
import { EXIT } from "../errors.ts";
import { defineArgs, formatFlag, listFlag, outputArgs, selectionArgs, targetArgs, type FlagValues } from "../options.ts";
import { makeOut } from "../render/output.ts";

const rulesDirArg = defineArgs({ "rules-dir": selectionArgs["rules-dir"] });

export const profilesCommand = defineCommand({
  meta: {
    name: "profiles",
    description:
      "List the benchmark profiles (CIS Level 1/2 Server and Workstation, DISA STIG) with how many rules each holds for this host (or the image under --root): " +
      "a rule belongs to a profile when its CIS or STIG reference for the target's distribution and major version (e.g. ubuntu22, debian12, rhel9) says so; CIS Level 1 rules are also in Level 2. " +
      `Without --profile, --rule or --tag, check, plan and remediate run ${DEFAULT_PROFILE}. Read-only.\n\n` +
      "Examples:\n" +
      "  bulwark profiles\n" +
      "  bulwark profiles --root /mnt/image --format json",
  },
  args: { ...rulesDirArg, ...targetArgs, ...outputArgs },
  async run({ args, data }) {
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const host = buildHost(args);
    const { os, label } = await readOs(host);
    const rules = loadRules(listFlag(data as FlagValues, "rules-dir"));
    const key = referenceKey(os) ?? null;
    const rows = profileCounts(rules, os, (r) => ruleApplies(r, os)).map((p) => ({ ...p, default: p.name === DEFAULT_PROFILE }));
    if (out.format === "json") out.json({ profiles: rows, summary: { os: label, key, default: DEFAULT_PROFILE } });
    else if (out.format === "jsonl") out.jsonl(rows.map((r) => ({ type: "profile", ...r })), { type: "summary", os: label, key, default: DEFAULT_PROFILE });
    else {
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) {
        const n = `${r.rules} rule${r.rules === 1 ? "" : "s"}`;
        out.line(`${r.name.padEnd(w)}  ${n.padStart(9)}  ${r.title}${r.default ? out.p.gray("  (default)") : ""}`);
      }
      if (!out.quiet) out.line(`profiles for ${label}${key ? ` (references ${key})` : ": no benchmark key (os-release has no ID or VERSION_ID)"}; ${ALL_PROFILE} is every rule that applies`);
    }
    return EXIT.ok;
  },
});
