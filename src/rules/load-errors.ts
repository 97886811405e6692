/**
 * The loader's error types, apart from the loader so that the CLI can tell a
 * load failure from other errors without loading valibot, the registries and
 * the shipped variables.
 */
import type { SourcePos } from "./yaml-source.ts";

/** One problem found while loading. `String(e)` gives the one-line message. */
export class RuleLoadError {
  constructor(
    readonly file: string,
    readonly ruleId: string | undefined,
    /** Dotted path to the field, e.g. `implementations[0].remediation.name`. */
    readonly field: string | undefined,
    readonly problem: string,
    /** Where in the file, when known (YAML syntax errors, inexact numbers). */
    readonly pos?: SourcePos,
  ) {}

  get message(): string {
    const at = this.pos ? `:${this.pos.line}:${this.pos.column}` : "";
    const rule = this.ruleId === undefined ? "" : ` rule ${this.ruleId}:`;
    const field = this.field ? ` ${this.field}:` : "";
    // Problems may quote rule input (valibot echoes received values): keep the message one line.
    return oneLine(`${this.file}${at}:${rule}${field} ${this.problem}`);
  }

  toString(): string {
    return this.message;
  }
}

/** Thrown by loadRulesOrThrow (load.ts); carries every error, one per line in `message`. */
export class RuleLoadFailure extends Error {
  constructor(readonly errors: RuleLoadError[]) {
    super(errors.map(String).join("\n"));
    this.name = "RuleLoadFailure";
  }
}

/** Escape control characters so hostile input cannot forge extra lines in logs. */
export function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => (c === "\n" ? "\\n" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
