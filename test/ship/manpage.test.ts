/** bulwark(8) tells the truth: specs/ship/packages.spec.yaml AC-07. Pure generation, no package tools. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { flatten, walk } from "../../scripts/package/cli-tree.ts";
import { manPage, SHIPPED_DOCS } from "../../scripts/package/manpage.ts";
import { main } from "../../src/cli/main.ts";

const repo = join(import.meta.dir, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every environment variable the source reads (process.env.X, or env.X off process.env). */
function envVarsRead(): string[] {
  const names = new Set<string>();
  for (const f of sourceFiles(join(repo, "src"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/\b(?:process\.env|Bun\.env|env)\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Lines between .SH NAME and the next .SH. */
function section(man: string, name: string): string {
  const at = man.indexOf(`\n.SH ${name}\n`);
  if (at < 0) return "";
  const next = man.indexOf("\n.SH ", at + 1);
  return man.slice(at, next < 0 ? undefined : next);
}

describe("bulwark(8)", async () => {
  const tree = await walk(main);
  const man = manPage(tree, "1.2.3", "2025-01-31");
  const text = man.replaceAll("\\-", "-");

  test("packages/AC-07: names the drop-ins Bulwark really writes", () => {
    expect(text).toContain("/etc/modprobe.d/00-bulwark-MODULE.conf");
    expect(text).toContain("/etc/sysctl.d/99-bulwark-KEY.conf");
    expect(text).not.toContain("modprobe.d/bulwark-*");
  });

  test("packages/AC-07: every enum flag shows its values, every value flag its hint", () => {
    expect(text).not.toMatch(/\bENUM\b/);
    expect(text).toContain("--format\\fR \\fI{text|json|jsonl}");
    expect(text).toContain("--root\\fR \\fIDIR");
    expect(text).toContain("--severity\\fR \\fI{critical|high|medium|low}");
  });

  test("packages/AC-07: command examples are rendered unfilled, one per line, without sudo", () => {
    const lines = text.split("\n");
    const withExamples = flatten(tree).filter((c) => c.description.includes("Examples:"));
    for (const c of withExamples) {
      for (const ex of c.description.split("Examples:\n")[1]!.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const at = lines.indexOf(ex);
        expect(at).toBeGreaterThan(0);
        // Inside a no-fill block: the nearest .nf/.fi above is .nf.
        const above = lines.slice(0, at).reverse().find((l) => l === ".nf" || l === ".fi");
        expect(above).toBe(".nf");
      }
    }
    expect(lines.filter((l) => l === ".nf").length).toBe(withExamples.length + 1);
    expect(text).not.toMatch(/^sudo /m);
    expect(section(man, "EXAMPLES")).toContain(".nf");
  });

  test("packages/AC-07: ENVIRONMENT documents every variable the source reads", () => {
    const env = section(man, "ENVIRONMENT").replaceAll("\\-", "-");
    const read = envVarsRead();
    expect(read).toContain("NO_COLOR");
    for (const name of read) expect(env).toContain(name.replaceAll("_", "_"));
  });

  test("packages/AC-07: points only to documents the package ships", () => {
    const paths = [...text.matchAll(/(?:\/usr\/share\/doc\/bulwark\/|\bdocs\/)[\w.-]*\w/g)].map((m) => m[0]);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) {
      expect(p).toStartWith("/usr/share/doc/bulwark/");
      expect(SHIPPED_DOCS.map((d) => `/usr/share/doc/bulwark/${d.as}`)).toContain(p);
    }
  });

  test("packages/AC-07: exit status says what exit 2 means and what to do next", () => {
    const exit = section(man, "EXIT STATUS").replaceAll("\\-", "-");
    expect(exit).toContain("bulwark plan");
    expect(exit).toContain("--allow-empty");
  });
});
