/**
 * What the journal stores is a mechanism schema's OUTPUT; rollback and recover
 * validate it again with the same schema (journal-trust.ts). A schema that
 * transforms (octal text → number) without accepting its own output makes
 * every committed transaction of that mechanism impossible to roll back.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import "../../src/checks/index.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { loadRulesFromPath, unsupportedOf } from "../../src/rules/load.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

function reparseProblems(rules: ReturnType<typeof loadEmbeddedRules>["rules"]): string[] {
  const bad: string[] = [];
  for (const r of rules) {
    if (unsupportedOf(r).length) continue;
    for (const impl of r.implementations) {
      for (const s of impl.steps) {
        const m = getMechanism(s.mechanism);
        if (!m) continue;
        const journaled = JSON.parse(JSON.stringify(s.params));
        const again = v.safeParse(m.params, journaled);
        if (!again.success) bad.push(`${r.id} ${s.mechanism}: ${again.issues[0]!.message}`);
        else if (JSON.stringify(again.output) !== JSON.stringify(journaled)) bad.push(`${r.id} ${s.mechanism}: re-validation changed ${JSON.stringify(journaled)} to ${JSON.stringify(again.output)}`);
      }
    }
  }
  return bad;
}

describe("journaled params re-validate", () => {
  test("journal-trust/AC-06: every shipped step's params, as journaled, validate again to themselves", () => {
    const { rules, errors } = loadEmbeddedRules();
    expect(errors).toEqual([]);
    expect(reparseProblems(rules)).toEqual([]);
  });

  test.skipIf(!haveKensaFull)("journal-trust/AC-06: every reference-corpus step's params, as journaled, validate again to themselves", () => {
    const res = loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup });
    expect(reparseProblems(res.rules)).toEqual([]);
  });
});
