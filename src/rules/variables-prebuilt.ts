/**
 * The shipped variable definitions, parsed once when the binary is built.
 * Imported as a Bun macro (`with { type: "macro" }`) by variables.ts: `bun
 * build` (and the runtime transpiler) runs {@link prebuiltShippedVariablesJson}
 * and inlines the string it returns, as embedded-prebuilt.ts does for the
 * rules. A broken file fails the build, as it failed every start before.
 */
import shippedText from "../../benchmarks/variables.yml" with { type: "text" };
import { parseVariableDefs } from "./variable-defs.ts";

/** The definitions {@link parseVariableDefs} reads from benchmarks/variables.yml, in file order, as JSON. */
export function prebuiltShippedVariablesJson(): string {
  return JSON.stringify([...parseVariableDefs(shippedText as unknown as string, "benchmarks/variables.yml").values()]);
}
