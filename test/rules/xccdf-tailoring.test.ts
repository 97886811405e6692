/** The XCCDF tailoring import against damaged files (specs/rules/tailoring.spec.yaml AC-08): refused with a located error, never a crash. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { parseTailoring, TailoringError } from "../../src/rules/tailoring.ts";
import { prng } from "../config/prng.ts";

const FILE = "site.xml";
const good = readFileSync(join(import.meta.dir, "../cli/fixtures/ssg-autotailor.xml"), "utf8");
const { rules } = loadEmbeddedRules();
const ids = new Set(rules.map((r) => r.id));

test("tailoring/AC-08: 2000 random mutations of an autotailor file are each imported consistently or refused with an error naming the file and a line, never a crash", () => {
  const base = parseTailoring(good, FILE, rules);
  expect(base.exclude.rules.length).toBe(3);
  let refused = 0;
  for (let seed = 1; seed <= 2000; seed++) {
    const r = prng(seed);
    const chars = [...good];
    for (let k = 1 + r.int(3); k > 0; k--) {
      const i = r.int(chars.length + 1);
      const kind = r.int(4);
      if (kind === 0) chars.splice(i, 1 + r.int(4));
      else if (kind === 1) chars.splice(i, 0, r.pick(["<", ">", "&", '"', "/", ":", "x", "&amp;", "-->", "<!--", "]]>", "\u0000", "é"]));
      else if (kind === 2) chars.splice(i, chars.length);
      else chars.splice(i, 0, ...chars.slice(r.int(chars.length), r.int(chars.length)));
    }
    const text = chars.join("");
    try {
      const t = parseTailoring(text, FILE, rules);
      // Whatever was accepted names only real rules, and says which ids it ignored.
      for (const id of [...t.add, ...t.exclude.rules]) expect({ seed, id, known: ids.has(id) }).toEqual({ seed, id, known: true });
      for (const u of t.unmapped) expect(u.line).toBeGreaterThan(0);
    } catch (e) {
      if (!(e instanceof TailoringError)) throw new Error(`seed ${seed}: ${(e as Error).stack}\n${text}`);
      refused++;
      // A document that is not XML at all any more is read as YAML and refused as such; XML problems carry a line.
      for (const p of e.problems) expect({ seed, p }).toEqual({ seed, p: expect.stringMatching(/^site\.xml: (malformed XML: )?line \d+|^site\.xml: /) });
      if (text.trimStart().startsWith("<")) expect({ seed, located: e.problems.every((p) => /line \d+/.test(p)) }).toEqual({ seed, located: true });
    }
  }
  console.log(`xccdf import: 2000 mutations, ${refused} refused`);
  expect(refused).toBeGreaterThan(1000);
});
