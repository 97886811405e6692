/**
 * The layer map of docs/architecture.md, enforced: an import may only run
 * down a floor, so a newcomer can read any layer without the ones above it.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

// Lower number = lower floor (docs/architecture.md). Folders on one floor may not import each other.
const FLOOR: Record<string, number> = {
  params: 0,
  kernelio: 1,
  store: 2,
  host: 2,
  config: 3,
  checks: 4,
  // A handler judges "who wins" with its check's own code (fs-gather, sysctl-boot): one floor above checks.
  handlers: 5,
  engine: 6,
  rules: 7,
  // Signed evidence: builds records from the engine's transaction facts, stores them through store/.
  evidence: 7,
  reports: 8,
  cli: 9,
};
// Top-level files (src/errors.ts, src/version.ts) are shared leaves.
const ROOT_FILES = "(root)";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0]! : ROOT_FILES;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']/g;

interface Edge { file: string; spec: string; from: string; to: string }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2]!;
      const from = folderOf(file);
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC)) continue;
        out.push({ file: relative(SRC, file), spec, from, to: folderOf(target) });
      } else {
        out.push({ file: relative(SRC, file), spec, from, to: `pkg:${spec}` });
      }
    }
  }
  return out;
}

describe("layers", () => {
  const all = edges();

  test("layers/AC-01: every import stays in its folder or goes down a floor", () => {
    const bad = all.filter((e) => {
      if (e.to.startsWith("pkg:") || e.from === e.to || e.to === ROOT_FILES || e.from === ROOT_FILES) return false;
      const a = FLOOR[e.from], b = FLOOR[e.to];
      if (a === undefined || b === undefined) return true; // a new folder must be placed on the map
      return b >= a;
    });
    expect(bad.map((e) => `${e.file} imports ${e.spec} (${e.from} → ${e.to})`)).toEqual([]);
  });

  test("layers/AC-02: the folder import graph has no cycle", () => {
    const g = new Map<string, Set<string>>();
    for (const e of all) {
      if (e.to.startsWith("pkg:") || e.from === e.to) continue;
      if (!g.has(e.from)) g.set(e.from, new Set());
      g.get(e.from)!.add(e.to);
    }
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const walk = (n: string, path: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) { cycles.push([...path.slice(path.indexOf(n)), n].join(" → ")); return; }
      state.set(n, 1);
      for (const m of g.get(n) ?? []) walk(m, [...path, n]);
      state.set(n, 2);
    };
    for (const n of g.keys()) walk(n, []);
    expect(cycles).toEqual([]);
  });

  test("layers/AC-03: only kernelio imports bun:ffi, only host imports kernelio", () => {
    const ffi = all.filter((e) => e.to === "pkg:bun:ffi" && e.from !== "kernelio");
    const kio = all.filter((e) => e.to === "kernelio" && e.from !== "kernelio" && e.from !== "host");
    expect([...ffi, ...kio].map((e) => `${e.file} imports ${e.spec}`)).toEqual([]);
  });
});
