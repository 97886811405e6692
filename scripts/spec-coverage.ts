#!/usr/bin/env bun
/**
 * The spec gate: reads every specs/**\/*.spec.yaml and every test title under
 * test/, prints a per-spec table, and exits non-zero when a tier-1 acceptance
 * criterion has no test. A test proves `NAME/AC-NN` by naming it in its title.
 */
import { Glob } from "bun";
import { join, relative } from "node:path";

interface Spec {
  file: string;
  name: string;
  tier: number;
  acceptance: { id: string; text: string }[];
}

const repo = join(import.meta.dir, "..");

function loadSpecs(): Spec[] {
  const specs: Spec[] = [];
  for (const file of new Glob("specs/**/*.spec.yaml").scanSync({ cwd: repo })) {
    const doc = Bun.YAML.parse(require("node:fs").readFileSync(join(repo, file), "utf8")) as Partial<Spec> | null;
    if (!doc || typeof doc.name !== "string" || typeof doc.tier !== "number" || !Array.isArray(doc.acceptance)) {
      throw new Error(`${file}: a spec needs name, tier and an acceptance list`);
    }
    const seen = new Set<string>();
    for (const ac of doc.acceptance) {
      if (!/^AC-\d{2,}$/.test(String(ac?.id))) throw new Error(`${file}: bad acceptance id ${JSON.stringify(ac?.id)}`);
      if (seen.has(ac.id)) throw new Error(`${file}: acceptance id ${ac.id} used twice`);
      seen.add(ac.id);
    }
    specs.push({ file, name: doc.name, tier: doc.tier, acceptance: doc.acceptance });
  }
  return specs.sort((a, b) => a.file.localeCompare(b.file));
}

/** Every `name/AC-NN` cited in a test file. Titles are string literals in test(...) calls. */
function citedCriteria(): Map<string, Set<string>> {
  const cited = new Map<string, Set<string>>();
  const re = /["'`]([a-z0-9][a-z0-9-]*)\/(AC-\d{2,})\b/g;
  for (const file of new Glob("test/**/*.ts").scanSync({ cwd: repo })) {
    const text = require("node:fs").readFileSync(join(repo, file), "utf8") as string;
    for (const m of text.matchAll(re)) {
      const key = `${m[1]}/${m[2]}`;
      if (!cited.has(key)) cited.set(key, new Set());
      cited.get(key)!.add(relative(repo, join(repo, file)));
    }
  }
  return cited;
}

const specs = loadSpecs();
const cited = citedCriteria();
const names = new Set<string>();
let missingTier1 = 0;
const rows: string[] = [];
for (const s of specs) {
  if (names.has(s.name)) throw new Error(`${s.file}: spec name ${s.name} used twice`);
  names.add(s.name);
  const missing = s.acceptance.filter((ac) => !cited.has(`${s.name}/${ac.id}`)).map((ac) => ac.id);
  if (s.tier === 1) missingTier1 += missing.length;
  const covered = s.acceptance.length - missing.length;
  rows.push(
    `${s.name.padEnd(28)} tier ${s.tier}  ${String(covered).padStart(3)}/${String(s.acceptance.length).padEnd(3)}` +
      (missing.length ? `  missing: ${missing.join(", ")}` : ""),
  );
}
const unknown = [...cited.keys()].filter((k) => !names.has(k.split("/")[0]!) || !specs.find((s) => s.name === k.split("/")[0])!.acceptance.some((a) => a.id === k.split("/")[1]));
console.log("spec                         tier   covered");
for (const r of rows) console.log(r);
if (unknown.length) console.log(`tests citing criteria no spec defines: ${unknown.join(", ")}`);
const total = specs.reduce((n, s) => n + s.acceptance.length, 0);
console.log(`${specs.length} specs, ${total} criteria; tier-1 criteria without a test: ${missingTier1}`);
if (missingTier1 > 0 || unknown.length > 0) process.exit(1);
