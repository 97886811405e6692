/**
 * The rule file format, as a valibot schema.
 *
 * Strict where a mistake would be dangerous or silently wrong (the id, the
 * severity, method and mechanism names, the shape of an implementation);
 * lenient where real rule corpora vary (extra reference kinds, extra keys,
 * versions written as numbers or strings). Method and mechanism *parameters*
 * are deliberately not checked here: they are validated in `load.ts` against
 * the schema the registered check method or mechanism declares.
 */
import * as v from "valibot";

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

export const Platform = v.looseObject({
  family: v.pipe(
    v.string("family must be a string"),
    v.regex(/^[a-z0-9][a-z0-9._-]*$/, "family must be a lowercase os-release ID such as rhel, ubuntu, debian"),
  ),
  min_version: v.optional(Version),
  max_version: v.optional(Version),
});
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

export const Implementation = v.strictObject({
  when: v.optional(Gate),
  default: v.optional(v.boolean("default must be true or false"), false),
  check: CheckSpec,
  remediation: RemediationSpec,
});

const CisRef = v.looseObject({
  section: Label,
  level: v.optional(Label),
  type: v.optional(Label),
});
const StigRef = v.looseObject({
  vuln_id: v.pipe(v.string(), v.regex(/^V-\d+$/, "vuln_id must look like V-123456")),
  stig_id: v.optional(Label),
  severity: v.optional(Label),
});
/** Keys of per-distribution maps, e.g. `rhel9`, `ubuntu24`, `rhel9_v2`. */
const DistroKey = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, "distribution key must be a lowercase name"));

/** Known reference kinds are typed; any other kind (`nist_800_171`, `pci_dss_4`, …) passes through. */
export const References = v.looseObject({
  cis: v.optional(v.record(DistroKey, CisRef)),
  stig: v.optional(v.record(DistroKey, StigRef)),
  nist_800_53: v.optional(v.array(Label)),
});
export type References = v.InferOutput<typeof References>;

/** A whole rule file, as written. `load.ts` turns it into a {@link Rule}. */
export const RuleFile = v.looseObject({
  id: RuleId,
  title: v.pipe(v.string("title must be a string"), v.minLength(1, "title is empty"), v.regex(/^[^\n\r\0]*$/, "title must be a single line")),
  description: Text,
  rationale: Text,
  severity: Severity,
  category: v.optional(Label, ""),
  tags: v.optional(v.array(Label), []),
  references: v.optional(References, {}),
  platforms: v.optional(v.array(Platform), []),
  implementations: v.pipe(v.array(Implementation), v.minLength(1, "a rule needs at least one implementation")),
});
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
  references: References;
  /** Empty means "any platform". */
  platforms: Platform[];
  implementations: RuleImplementation[];
  /** The file the rule came from, as shown in messages. */
  source: string;
}
