/**
 * What the compiled binary evaluates at start-up, counted, never timed. A
 * preload (BUN_OPTIONS=--preload, which the standalone executable honours)
 * records at exit the modules in require.cache (every chunk of the bundle that
 * was evaluated, exactly) and counts crypto.getRandomValues calls. Internal
 * modules (node:stream, bun:sqlite) are not in require.cache: they are seen as
 * frames of a CPU profile sampled every 20 µs, over 3 runs. Building
 * node:stream for process.stdout takes ~4 ms and loading bun:sqlite ~0.5 ms:
 * tens of samples, so a regression shows; a module never loaded never does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bulwark, buildBinary, KERNEL_RULES, STATE_REL, ubuntuRoot } from "../cli/helpers.ts";

interface Frames {
  code: number;
  stdout: string;
  /** The bundle's modules evaluated (require.cache at exit), by file name: chunks such as check-1a2b3c4d.js. */
  evaluated: string[];
  /** crypto.getRandomValues calls. */
  randomCalls: number;
  /** Every frame's url over the profiled runs: internal modules by name (node:stream, internal:streams/writable, bun:sqlite). */
  urls: Set<string>;
  functions: Set<string>;
}

const PRELOAD = `
let calls = 0;
const draw = crypto.getRandomValues.bind(crypto);
crypto.getRandomValues = (a) => (calls++, draw(a));
process.on("exit", () => {
  const evaluated = Object.keys(require.cache).filter((k) => k.startsWith("/$bunfs/")).map((k) => k.slice(k.lastIndexOf("/") + 1));
  require("node:fs").writeFileSync(process.env.BULWARK_TEST_FACTS, JSON.stringify({ calls, evaluated }));
});
`;

/** Run the compiled binary with ARGS 3 times under the preload and the CPU profiler; what the runs evaluated. */
function profiled(args: string[]): Frames {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-startup-"));
  try {
    const preload = join(dir, "preload.js");
    writeFileSync(preload, PRELOAD);
    const urls = new Set<string>();
    const functions = new Set<string>();
    let last: Omit<Frames, "urls" | "functions"> | undefined;
    for (let i = 0; i < 3; i++) {
      const prof = join(dir, `prof-${i}`);
      const facts = join(dir, `facts-${i}.json`);
      const r = bulwark(args, { BUN_OPTIONS: `--preload ${preload} --cpu-prof --cpu-prof-interval=20 --cpu-prof-dir=${prof}`, BULWARK_TEST_FACTS: facts });
      const files = existsSync(prof) ? readdirSync(prof).filter((f) => f.endsWith(".cpuprofile")) : [];
      if (files.length !== 1 || !existsSync(facts)) throw new Error(`expected one CPU profile and the preload's facts (exit ${r.code}):\n${r.stderr}`);
      const profile = JSON.parse(readFileSync(join(prof, files[0]!), "utf8")) as { nodes: { callFrame: { url: string; functionName: string } }[] };
      for (const n of profile.nodes) {
        urls.add(n.callFrame.url);
        functions.add(n.callFrame.functionName);
      }
      const f = JSON.parse(readFileSync(facts, "utf8")) as { calls: number; evaluated: string[] };
      last = { code: r.code, stdout: r.stdout, evaluated: f.evaluated, randomCalls: Math.max(f.calls, last?.randomCalls ?? 0) };
    }
    return { ...last!, urls, functions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Node stream machinery process.stdout/process.stderr (or node:tty) build when first touched. */
function streamModules(f: Frames): string[] {
  return [...f.urls].filter((u) => u === "node:stream" || u === "node:tty" || /^internal:streams?\b/.test(u) || u.startsWith("internal:fs/streams"));
}

describe("performance/AC-24, performance/AC-25", () => {
  let root: ReturnType<typeof ubuntuRoot>;
  let version: Frames;
  let check: Frames;
  beforeAll(() => {
    buildBinary();
    root = ubuntuRoot();
    version = profiled(["--version"]);
    check = profiled(["check", "--root", root.root, "--path", "kernel-io", ...KERNEL_RULES]);
  }, 120_000);
  afterAll(() => root.cleanup());

  test("performance/AC-24: the compiled binary is code-split — a kernel-rule check evaluates its command's own chunk, --version evaluates no chunk of check", () => {
    expect(version.code).toBe(0);
    expect(version.stdout).toStartWith("bulwark ");
    expect(check.code).toBe(2);
    expect(check.stdout).toContain("55 rules:");
    // The check command's module is a chunk of its own (check-<hash>.js), evaluated by the check...
    const chunk = (name: string) => new RegExp(`^${name}-[a-z0-9]+\\.js$`);
    const checkChunks = check.evaluated.filter((s) => chunk("check").test(s));
    expect(checkChunks.length).toBe(1);
    // ...as are the two check methods its rules name, and no mechanism (performance/AC-22, in the binary).
    expect(check.evaluated.filter((s) => chunk("(kernel-module-state|sysctl-value)").test(s)).length).toBe(2);
    expect(check.evaluated.filter((s) => chunk("(remediate|kernel-module-disable|sysctl-set|html|sarif)").test(s))).toEqual([]);
    // --version loads only what it imports: a handful of small chunks, none of check's.
    expect(version.evaluated.filter((s) => checkChunks.includes(s) || chunk("(remediate|kernel-module-state|sysctl-value)").test(s))).toEqual([]);
    expect(version.evaluated.length).toBeLessThan(check.evaluated.length / 4);
  });

  test("performance/AC-24: neither --version nor a kernel-rule check builds a Node stream — stdout and stderr are written without process.stdout/process.stderr", () => {
    // Sanity: the profile does show internal modules (node:fs is loaded by both).
    expect(version.urls.has("node:fs") || check.urls.has("node:fs")).toBe(true);
    expect(streamModules(version)).toEqual([]);
    expect(streamModules(check)).toEqual([]);
    expect(version.functions.has("WriteStream")).toBe(false);
    expect(check.functions.has("WriteStream")).toBe(false);
  });

  test("performance/AC-25: a kernel-rule check of an image with no state database loads no SQLite and draws no random bytes (no colour on a pipe)", () => {
    expect(existsSync(join(root.root, STATE_REL, "state.db"))).toBe(false);
    expect([...check.urls].filter((u) => u === "bun:sqlite")).toEqual([]);
    expect(check.randomCalls).toBe(0);
    // The check really ran its rules, so the absences count.
    expect(check.stdout).toContain("55 rules:");
  });
});
