/**
 * The shipped corpus as a command loads it. With the shipped variable values
 * and the registered checks and mechanisms (the usual case: no --set, no
 * tailoring variables, no --profile that changes a value) the rules are the
 * loader's output computed when the binary was built (embedded-prebuilt.ts),
 * so a start parses one JSON string instead of 177 YAML files through
 * valibot. Any other variable value goes through the loader, as before.
 */
import { prebuiltEmbeddedRulesJson } from "./embedded-prebuilt.ts" with { type: "macro" };
import type { LoadOptions, LoadResult } from "./load.ts";
import type { Rule } from "./schema.ts";
import { resolveVariables, type Variables } from "./variables.ts";

/** Inlined at build time by the macro; a function so the string is parsed only when rules are loaded. */
function prebuiltJson(): string {
  return prebuiltEmbeddedRulesJson();
}

/** True when VARIABLES would substitute exactly what the shipped defaults do (same names, values and sources). */
function isShippedDefaults(variables: Variables | undefined): boolean {
  if (variables === undefined) return true;
  const shipped = resolveVariables();
  if (shipped.size !== variables.size) return false;
  for (const [name, d] of shipped) {
    const got = variables.get(name);
    if (got === undefined || got.value !== d.value || got.from !== d.from) return false;
  }
  return true;
}

/**
 * The embedded corpus loaded with OPTS: always equal to
 * {@link loadEmbeddedRules}(OPTS) (test/rules/shipped.test.ts), taken from the
 * build-time form when OPTS are the shipped defaults and the registries.
 */
export function loadShippedRules(opts: LoadOptions = {}): LoadResult {
  if (opts.lookup === undefined && isShippedDefaults(opts.variables)) {
    const json = prebuiltJson();
    if (json !== "") return { rules: JSON.parse(json) as Rule[], errors: [] };
  }
  // Required here, not imported: its 177 text imports are evaluated when the module is, ~4 % of a
  // kernel-rule `check`'s start-up profile, and only a non-default variable value needs them.
  const { loadEmbeddedRules } = require("./embedded.ts") as typeof import("./embedded.ts");
  return loadEmbeddedRules(opts);
}
