/**
 * The rule file format, as a valibot schema.
 *
 * Strict: every mapping the format defines takes only its own keys, and an
 * unknown one is an error that suggests the key meant (`tgas` → `tags`), so a
 * typo can never silently drop a field. Lenient only where real corpora
 * legitimately vary: reference kinds beyond cis/stig/nist_800_53 pass as
 * written, versions may be numbers or strings, a STIG or CIS reference may be
 * one entry or a list of entries per OS version. Method and mechanism
 * *parameters* are validated in `load.ts` against the schema the registered
 * check method or mechanism declares. The format is documented in docs/rules.md.
 */
import * as v from "valibot";
import { unknownKeyProblem } from "./suggest.ts";

/**
 * A mapping with exactly these keys. EVERY unknown key is reported (valibot's
 * strictObject stops at the first, and says "Expected never"), each as
 * `unknown key "x", did you mean "y"?`, even when a known field is also wrong.
 */
export function strictMapping<const E extends v.ObjectEntries>(entries: E, what: string): v.ObjectSchema<E, v.ErrorMessage<v.ObjectIssue>> {
  const known = Object.keys(entries);
  // valibot uses one message for "not a mapping" and "required key missing"; tell them apart.
  const inner = v.object(entries, (issue) => (issue.input === undefined && issue.path?.length ? "required field is missing" : `${what} must be a mapping`));
  const run: typeof inner["~run"] = (dataset, config) => {
    const input = dataset.value as Record<string, unknown>;
    const out = inner["~run"](dataset, config);
    if (input === null || typeof input !== "object" || Array.isArray(input)) return out;
    for (const key of Object.keys(input).filter((k) => !known.includes(k))) {
      const issue = {
        kind: "schema", type: "strict_object", input: key, expected: "never", received: JSON.stringify(key),
        message: unknownKeyProblem(key, known), requirement: undefined,
        path: [{ type: "object", origin: "key", input, key, value: input[key] }], issues: undefined,
        lang: config.lang, abortEarly: config.abortEarly, abortPipeEarly: config.abortPipeEarly,
      } as unknown as v.ObjectIssue;
      (out.issues ??= [] as never as typeof out.issues & object).push(issue as never);
      out.typed = false;
    }
    return out;
  };
  return { ...inner, "~run": run };
}

/** A rule id: lowercase slug, so it is safe in file names, logs and CLI flags. */
export const RuleId = v.pipe(
  v.string("id must be a string"),
  v.maxLength(128, "id is longer than 128 characters"),
  v.regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, "id must be a lowercase slug (a-z, 0-9, '-', '_', '.')"),
);

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const Severity = v.picklist(SEVERITIES, "severity must be one of critical, high, medium, low");

/**
 * A check method or mechanism name. These pick code to run, so they are kept
 * to identifiers: nothing a later lookup or log line could misread.
 */
export const HandlerName = v.pipe(
  v.string("must be a string"),
  v.maxLength(64, "name is longer than 64 characters"),
  v.regex(/^[a-z][a-z0-9_]*$/, "must be a lowercase identifier (a-z, 0-9, '_')"),
);

/** A capability name as used in `when` gates (e.g. `sshd_config_d`, `authselect`). */
export const CapabilityName = v.pipe(
  v.string("capability must be a string"),
  v.maxLength(64),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "capability must be a simple name"),
);

/** A short free-text label: one line, so it cannot forge extra report lines. */
const Label = v.pipe(
  v.union([v.string(), v.number()], "must be a string"),
  v.transform((x) => String(x)),
  v.regex(/^[^\n\r\0]*$/, "must be a single line"),
);

/** Text fields are required by the format, but a `null` from an empty YAML key reads as "". */
const Text = v.pipe(
  v.nullish(v.string("must be a string"), ""),
  v.transform((s) => s.trim()),
);

/**
 * A version bound. Corpora write `8`, `22`, `"22.04"` or `9.2`; kept as the
 * written string so `22.10` is not collapsed to `22.1` by a number round-trip
 * when written quoted.
 */
export const Version = v.pipe(
  v.union([v.number(), v.string()], "version must be a number or string"),
  v.transform((x) => String(x)),
  v.regex(/^\d+(?:\.\d+)*$/, "version must look like 9, 22.04 or 8.6"),
);

export const Platform = strictMapping({
  family: v.pipe(
    v.string("family must be a string"),
    v.regex(/^[a-z0-9][a-z0-9._-]*$/, "family must be a lowercase os-release ID such as rhel, ubuntu, debian"),
  ),
  min_version: v.optional(Version),
  max_version: v.optional(Version),
}, "a platform");
export type Platform = v.InferOutput<typeof Platform>;

/** A capability gate: a name, or `all`/`any` of gates, or `not` a gate. */
export type Gate = string | { all: Gate[] } | { any: Gate[] } | { not: Gate };
export const Gate: v.GenericSchema<unknown, Gate> = v.union(
  [
    CapabilityName,
    v.strictObject({ all: v.pipe(v.array(v.lazy(() => Gate)), v.minLength(1)) }),
    v.strictObject({ any: v.pipe(v.array(v.lazy(() => Gate)), v.minLength(1)) }),
    v.strictObject({ not: v.lazy(() => Gate) }),
  ],
  "when must be a capability name or one of {all: [...]}, {any: [...]}, {not: ...}",
);

/** One check: its method name and the method's parameters beside it. */
export const CheckStep = v.looseObject({ method: HandlerName });
/** One remediation step: its mechanism name and parameters beside it. */
export const RemediationStep = v.looseObject({ mechanism: HandlerName });

/** `check:` is one check, or `{checks: [...]}`, all of which must pass. */
export const CheckSpec = v.union(
  [v.strictObject({ checks: v.pipe(v.array(CheckStep), v.minLength(1)) }), CheckStep],
  "check must have a method, or be {checks: [...]}",
);
/** `remediation:` is one step, or `{steps: [...]}`, applied in order as one transaction. */
export const RemediationSpec = v.union(
  [v.strictObject({ steps: v.pipe(v.array(RemediationStep), v.minLength(1)) }), RemediationStep],
  "remediation must have a mechanism, or be {steps: [...]}",
);

export const Implementation = strictMapping({
  when: v.optional(Gate),
  default: v.optional(v.boolean("default must be true or false"), false),
  check: CheckSpec,
  remediation: RemediationSpec,
}, "an implementation");

const CisRef = strictMapping({
  section: Label,
  level: v.optional(Label),
  type: v.optional(Label),
}, "a CIS reference");
const StigRef = strictMapping({
  vuln_id: v.pipe(v.string("vuln_id must be a string"), v.regex(/^V-\d+$/, "vuln_id must look like V-123456")),
  stig_id: v.optional(Label),
  severity: v.optional(Label),
  cci: v.optional(v.array(Label)),
}, "a STIG reference");

/**
 * One entry, or a list when a benchmark maps the control to several items for
 * one OS version (a STIG splits `/var/log` checks into owner, group and mode).
 * The input's shape picks the schema, so errors name the entry (`rhel10[1].vuln_id`).
 */
function oneOrMany<T extends v.GenericSchema>(entry: T) {
  const many = v.pipe(v.array(entry), v.minLength(1, "the list is empty"));
  return v.lazy((input) => (Array.isArray(input) ? many : entry)) as v.GenericSchema<unknown, v.InferOutput<T> | v.InferOutput<T>[]>;
}
/** Keys of per-distribution maps, e.g. `rhel9`, `ubuntu24`, `rhel9_v2`. */
const DistroKey = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, "distribution key must be a lowercase name"));

/** Known reference kinds are typed; any other kind (`nist_800_171`, `pci_dss_4`, …) passes through. */
export const References = v.looseObject({
  cis: v.optional(v.record(DistroKey, oneOrMany(CisRef))),
  stig: v.optional(v.record(DistroKey, oneOrMany(StigRef))),
  nist_800_53: v.optional(v.array(Label)),
});
export type References = v.InferOutput<typeof References>;

/**
 * Workloads a rule is known to break where they run: the rule stays in its
 * profiles but is never applied unless selected by id or tag (or a tailoring
 * file adds it), and `plan` says why it was left out.
 */
export const WORKLOADS = ["containers", "vms", "snaps", "routers", "ipv6-autoconf"] as const;
export type Workload = (typeof WORKLOADS)[number];
const Breaks = v.array(v.picklist(WORKLOADS, `breaks: each entry must be one of ${WORKLOADS.join(", ")}`), "breaks must be a list of workloads");

/** Rule ids another rule names: `depends_on` is acted on (rules/depends.ts); `conflicts_with` and `supersedes` are kept for corpus compatibility, not acted on. */
const RuleIdList = v.array(RuleId, "must be a list of rule ids");

/** A whole rule file, as written. `load.ts` turns it into a {@link Rule}. */
export const RuleFile = strictMapping({
  id: RuleId,
  title: v.pipe(v.string("title must be a string"), v.minLength(1, "title is empty"), v.regex(/^[^\n\r\0]*$/, "title must be a single line")),
  description: Text,
  rationale: Text,
  severity: Severity,
  category: v.optional(Label, ""),
  tags: v.optional(v.array(Label), []),
  breaks: v.optional(Breaks, []),
  references: v.optional(References, {}),
  platforms: v.optional(v.array(Platform), []),
  implementations: v.pipe(v.array(Implementation), v.minLength(1, "a rule needs at least one implementation")),
  // Kensa's ordering and transaction hints: validated, reported by `rules show`; only depends_on is acted on.
  transactional: v.optional(v.boolean("transactional must be true or false")),
  depends_on: v.optional(RuleIdList),
  conflicts_with: v.optional(RuleIdList),
  supersedes: v.optional(RuleIdList),
}, "a rule file");
export type RuleFile = v.InferOutput<typeof RuleFile>;

/** A check as the engine sees it: the method, its validated parameters, and where it was written. */
export interface CheckCall {
  method: string;
  params: Record<string, unknown>;
  /** Path in the rule file, e.g. `implementations[0].check`, for messages. */
  at: string;
}

/** A remediation step as the engine sees it. */
export interface RemediationCall {
  mechanism: string;
  params: Record<string, unknown>;
  at: string;
}

/** One implementation, normalised: always a list of checks and a list of steps. */
export interface RuleImplementation {
  when?: Gate;
  default: boolean;
  /** All must pass for the rule to pass. */
  checks: CheckCall[];
  /** Applied in order, as one transaction. */
  steps: RemediationCall[];
  /**
   * Set when a method or mechanism was not registered at load time, e.g.
   * `mechanism foo not available`. Its parameters were therefore never
   * validated, so the implementation must not run: the rule is skipped.
   */
  unavailable?: string;
  /** The same, as names (`check method command`, `mechanism manual`), for `rules validate`. */
  unsupported?: string[];
}

/** A loaded, validated rule. */
export interface Rule {
  id: string;
  title: string;
  description: string;
  rationale: string;
  severity: Severity;
  category: string;
  tags: string[];
  /** Workloads this rule breaks (see {@link WORKLOADS}); empty for most rules. */
  breaks: Workload[];
  references: References;
  /** Empty means "any platform". */
  platforms: Platform[];
  implementations: RuleImplementation[];
  /** The file the rule came from, as shown in messages. */
  source: string;
  /**
   * Rules whose subject this rule presupposes (`depends_on`): where one of
   * them says its package or unit is not on the host, this rule is not
   * applicable (rules/depends.ts, engine/preconditions.ts).
   */
  dependsOn: string[];
  /** Each variable the rule uses (`{{ name }}`) and the value substituted (null: the site must set it). */
  variables: Record<string, { value: string | null; from: string }>;
}
