/**
 * The shipped SSH rules' values, judged by the image's own sshd before any
 * mechanism exists: every keyword/value a rule would write, put in a drop-in
 * of a copy of the real image, is accepted by `sshd -t`, and `sshd -T` then
 * prints exactly the value the rule's check expects. A rule whose check could
 * never pass after its own fix (a value sshd normalises differently) fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, imageJudge, parseSshdT, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { REPO } from "./corpus.ts";

const have = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent());

/** keyword → value and the expected sshd -T value, from each rule's sshd_config_d implementation. */
function sshdRuleValues(): { id: string; key: string; value: string; expectKey: string; expected: string }[] {
  const out = [];
  for (const rule of loadRulesFromPath(join(REPO, "rules/ssh")).rules) {
    for (const impl of rule.implementations) {
      const check = impl.checks[0]!, step = impl.steps[0]!;
      if (check.method !== "sshd_effective_config" || step.mechanism !== "config_set_dropin") continue;
      out.push({ id: rule.id, key: String(step.params.key), value: String(step.params.value), expectKey: String(check.params.key), expected: String(check.params.expected) });
    }
  }
  return out;
}

describe.skipIf(!have)("shipped SSH rule values on the real image's sshd", () => {
  let img: ImageCopy;
  beforeAll(() => { img = copyImage("debian12"); }, 120_000);
  afterAll(() => img?.cleanup(), 120_000);

  test("test-image/AC-09: sshd -t accepts every shipped SSH rule's value and sshd -T prints what its check expects", () => {
    const values = sshdRuleValues();
    expect(values.length).toBeGreaterThanOrEqual(19);
    writeFileSync(join(img.root, "etc/ssh/sshd_config.d/00-rules.conf"), values.map((v) => `${v.key} ${v.value}\n`).join(""));
    const j = imageJudge(img.root);
    const t = j.sshdt();
    expect({ code: t.code, stderr: t.stderr }).toEqual({ code: 0, stderr: "" });
    const eff = parseSshdT(j.sshdT().stdout);
    const wrong = values.filter((v) => eff.get(v.expectKey) !== v.expected).map((v) => `${v.id}: sshd -T ${v.expectKey}=${eff.get(v.expectKey)}, rule expects ${v.expected}`);
    expect(wrong).toEqual([]);
  }, 120_000);

  test("test-image/AC-09: visudo -c accepts every shipped sudoers drop-in the rules write", () => {
    const drops = loadRulesFromPath(join(REPO, "rules")).rules.flatMap((r) =>
      r.implementations.flatMap((i) => i.steps).filter((s) => s.mechanism === "file_content" && String(s.params.path).startsWith("/etc/sudoers.d/")));
    expect(drops.length).toBeGreaterThanOrEqual(2);
    const j = imageJudge(img.root);
    for (const d of drops) {
      writeFileSync(join(img.root, String(d.params.path)), String(d.params.content), { mode: 0o440 });
      const one = j.visudoC(String(d.params.path));
      expect({ file: d.params.path, code: one.code, stderr: one.stderr }).toEqual({ file: d.params.path, code: 0, stderr: "" });
    }
    const all = j.visudoC();
    expect({ code: all.code, stderr: all.stderr }).toEqual({ code: 0, stderr: "" });
  }, 120_000);
});
