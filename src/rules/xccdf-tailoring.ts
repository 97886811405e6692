/**
 * An OpenSCAP XCCDF 1.2 tailoring file (what `autotailor` and SCAP Workbench
 * write) read as a Bulwark tailoring: the one `<Profile>`'s `extends`, its
 * `<select idref selected>` (true: added, false: excluded) and its
 * `<set-value idref>` / `<refine-value idref selector>` (variables), with
 * SSG ids mapped through src/rules/ssg-ids.ts. An id that does not map is
 * not an error: it is listed by name (with its line) for a warning and for
 * `rules validate`. Malformed XML, a document that is not an XCCDF 1.2
 * Tailoring, or a Profile that is not exactly one, are problems naming the
 * file and line. Pure.
 */
import { attr, childElements, parseXml, textOf, XmlError, type XmlElement } from "../config/xml.ts";
import type { Rule } from "./schema.ts";
import { SSG_PROFILE_PREFIX, SSG_PROFILES, SSG_RULE_PREFIX, SSG_VALUE_PREFIX, SSG_VALUES, ssgRuleMap } from "./ssg-ids.ts";
import { resolveVariables, VariableError, type VariableOverride } from "./variables.ts";

/** The XCCDF 1.2 namespace. */
export const XCCDF_NS = "http://checklists.nist.gov/xccdf/1.2";

/** An id in an XCCDF tailoring file that Bulwark has no counterpart for; ignored, and reported. */
export interface UnmappedId {
  line: number;
  /** What named it: a select (rule or group), a set-value/refine-value (value), the Profile's extends, or another element. */
  kind: "rule" | "value" | "profile" | "element";
  id: string;
  /** Why it did not map, when more can be said than "no Bulwark counterpart". */
  why?: string;
}

/** `line 12: rule xccdf_org.ssgproject.content_rule_aide_build_database` (plus why). */
export function unmappedText(u: UnmappedId): string {
  return `line ${u.line}: ${u.kind} ${u.id}${u.why ? ` (${u.why})` : ""}`;
}

/** What an XCCDF tailoring file asks for, in Bulwark's terms. */
export interface XccdfImport {
  extends?: string;
  add: string[];
  exclude: string[];
  variables: VariableOverride[];
  unmapped: UnmappedId[];
}

/**
 * Does TEXT look like XML (its first non-blank character, after a byte-order
 * mark, is `<`)? A YAML tailoring file can never start so: detection is by
 * content, not by the file's name.
 */
export function looksLikeXml(text: string): boolean {
  return /^\ufeff?[ \t\r\n]*</.test(text);
}

/**
 * Read TEXT (FILE names it in messages) as an XCCDF 1.2 tailoring file. With
 * RULES, selections are mapped to rule ids; without, only the profile and
 * variables are read (the caller has not loaded rules yet). Returns the
 * import, or every problem, each naming the file and line.
 */
export function importXccdfTailoring(text: string, file: string, rules?: readonly Rule[]): { ok: true; value: XccdfImport } | { ok: false; problems: string[] } {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) return { ok: false, problems: [`${file}: malformed XML: ${e.message}`] };
    throw e;
  }
  if (root.ns !== XCCDF_NS || root.local !== "Tailoring") {
    return { ok: false, problems: [`${file}: line ${root.line}: not an XCCDF 1.2 tailoring file: the root element is ${root.name}${root.ns ? ` in ${root.ns}` : ""}, expected Tailoring in ${XCCDF_NS}`] };
  }
  const profiles = childElements(root, XCCDF_NS, "Profile");
  if (profiles.length !== 1) {
    const ids = profiles.map((p) => `${attr(p, "id") ?? "(no id)"} at line ${p.line}`).join(", ");
    return { ok: false, problems: [`${file}: line ${root.line}: an XCCDF tailoring file must hold exactly one Profile; found ${profiles.length}${ids ? ` (${ids})` : ""}`] };
  }
  const profile = profiles[0]!;
  const problems: string[] = [];
  const out: XccdfImport = { add: [], exclude: [], variables: [], unmapped: [] };
  const ext = attr(profile, "extends");
  if (ext !== undefined) {
    const mapped = ext.startsWith(SSG_PROFILE_PREFIX) ? SSG_PROFILES[ext.slice(SSG_PROFILE_PREFIX.length)] : undefined;
    if (mapped) out.extends = mapped;
    else out.unmapped.push({ line: profile.line, kind: "profile", id: ext, why: "extends a profile Bulwark has no counterpart for; the default selection applies" });
  }
  const ruleMap = rules ? ssgRuleMap(rules) : undefined;
  for (const el of profile.children) {
    if (typeof el === "string") continue;
    if (el.ns !== XCCDF_NS) continue; // foreign extensions (xhtml in a description) carry no selection
    const idref = attr(el, "idref");
    const need = (what: string) => problems.push(`${file}: line ${el.line}: ${el.local}: ${what}`);
    switch (el.local) {
      case "select": {
        const sel = attr(el, "selected");
        if (idref === undefined) need("missing idref");
        else if (sel === undefined || !/^(true|false|1|0)$/.test(sel.trim())) need(`selected must be true or false (got ${sel === undefined ? "nothing" : JSON.stringify(sel)})`);
        else if (ruleMap) {
          const ids = idref.startsWith(SSG_RULE_PREFIX) ? ruleMap.get(idref.slice(SSG_RULE_PREFIX.length)) : undefined;
          if (!ids) out.unmapped.push({ line: el.line, kind: "rule", id: idref });
          else (/^(true|1)$/.test(sel.trim()) ? out.add : out.exclude).push(...ids);
        }
        break;
      }
      case "set-value":
      case "refine-value": {
        if (idref === undefined) {
          need("missing idref");
          break;
        }
        const name = idref.startsWith(SSG_VALUE_PREFIX) ? SSG_VALUES[idref.slice(SSG_VALUE_PREFIX.length)] : undefined;
        const refine = el.local === "refine-value";
        const value = refine ? attr(el, "selector") : textOf(el).trim();
        if (!name) {
          out.unmapped.push({ line: el.line, kind: "value", id: idref });
          break;
        }
        if (value === undefined) {
          // A refine-value with only operator/severity changes nothing Bulwark reads.
          out.unmapped.push({ line: el.line, kind: "value", id: idref, why: "refine-value without a selector" });
          break;
        }
        const o: VariableOverride = { name, value, from: `tailoring ${file} line ${el.line} (${idref})` };
        try {
          resolveVariables([o]);
        } catch (e) {
          if (!(e instanceof VariableError)) throw e;
          // A selector names one of the benchmark's options ("10_min", "cis_rhel7"): usually the value
          // itself, but when it is not a valid value it is a name only the benchmark can resolve.
          if (refine) out.unmapped.push({ line: el.line, kind: "value", id: idref, why: `selector ${JSON.stringify(value)} names a benchmark option, not a ${name} value; use set-value` });
          else problems.push(`${file}: line ${el.line}: set-value ${idref}: ${e.message.startsWith(`${o.from}: `) ? e.message.slice(o.from.length + 2) : e.message}`);
          break;
        }
        out.variables.push(o);
        break;
      }
      case "title":
      case "description":
      case "status":
      case "version":
        break;
      default:
        // refine-rule (severity, weight, role) and anything else: no Bulwark meaning, so named rather than dropped silently.
        out.unmapped.push({ line: el.line, kind: "element", id: idref ?? el.name, why: `${el.local} is not supported` });
    }
  }
  if (problems.length) return { ok: false, problems };
  out.add = [...new Set(out.add)];
  out.exclude = [...new Set(out.exclude)];
  return { ok: true, value: out };
}
