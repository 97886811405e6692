/**
 * The shipped corpus, loaded once when the binary is built instead of on
 * every start. Imported as a Bun macro (`with { type: "macro" }`) by
 * shipped-rules.ts: `bun build` (and the runtime transpiler) runs
 * {@link prebuiltEmbeddedRulesJson} and inlines the string it returns.
 *
 * It runs the very loader a start would run (YAML parse, `{{ variable }}`
 * substitution with the shipped defaults, valibot validation of every field
 * and every registered parameter schema), so the inlined rules are the
 * loader's output, not a second implementation of it.
 */
import "../checks/index.ts";
import "../handlers/index.ts";
import { EMBEDDED_RULE_FILES } from "./embedded.ts";
import { loadRuleSources, type RuleSource } from "./load.ts";
import { parseVariableDefs } from "./variable-defs.ts";
import { resolveVariables } from "./variables.ts";
import shippedVariablesText from "../../benchmarks/variables.yml" with { type: "text" };

/**
 * SOURCES as the loader returns them with the shipped defaults and the
 * registered checks and mechanisms, as JSON; "" when any has a load error, so
 * a start falls back to the loader and reports the errors exactly as before.
 */
export function loadedRulesJson(sources: readonly RuleSource[]): string {
  // The shipped defaults from the file itself: where this runs as a macro, variables.ts's own
  // build-time copy of them (a macro of its own) is not expanded.
  const defs = parseVariableDefs(shippedVariablesText as unknown as string, "benchmarks/variables.yml");
  const res = loadRuleSources(sources, { variables: resolveVariables([], undefined, defs) });
  return res.errors.length > 0 ? "" : JSON.stringify(res.rules);
}

/** The macro: {@link loadedRulesJson} of the embedded corpus (a macro takes no computed arguments). */
export function prebuiltEmbeddedRulesJson(): string {
  return loadedRulesJson(EMBEDDED_RULE_FILES);
}
