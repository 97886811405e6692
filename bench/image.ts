/**
 * The shipped corpus on the real Debian 12 image (test/support/debian-image.ts),
 * through the compiled binary as an operator runs it: `check` of the whole
 * runnable corpus, then `remediate` of everything that fails and `rollback`
 * of the run, on both Host paths, on a fresh copy each time. Per-rule cost is
 * set beside the durable-write floor (write + fsync + rename + directory
 * fsync through node:fs) measured in the same run on the same file system.
 * Process start-up is included in every number (one process per command).
 * BENCH_RUNS (default 3) sets the runs per path: the shell path takes minutes.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bulwark, buildBinary, json } from "../test/cli/helpers.ts";
import { copyImage } from "../test/support/debian-image.ts";
import { runnableCorpus } from "../test/e2e-image/corpus.ts";

type Path = "kernel-io" | "shell";
interface Sample { checkMs: number; checked: number; remediateMs: number; fixed: number; rollbackMs: number }

function once(path: Path, rulesDir: string): Sample {
  const img = copyImage("debian12");
  const state = mkdtempSync(join(tmpdir(), "bulwark-bench-image-state-"));
  try {
    const base = ["--root", img.root, "--path", path, "--state-dir", state, "--rules-dir", rulesDir, "--format", "json"];
    const check = bulwark(["check", ...base]);
    if (check.code !== 0 && check.code !== 2) throw new Error(`${path} check exit ${check.code}: ${check.stderr}`);
    const checked = json(check).results.filter((r: any) => r.status !== "skip").length;
    const rem = bulwark(["remediate", ...base]);
    if (rem.code !== 0) throw new Error(`${path} remediate exit ${rem.code}: ${rem.stderr}`);
    const doc = json(rem);
    const fixed = doc.transactions.filter((t: any) => t.status === "committed").length;
    const rb = bulwark(["rollback", "--run", String(doc.run_id), "--root", img.root, "--path", path, "--state-dir", state, "--format", "json"]);
    if (rb.code !== 0) throw new Error(`${path} rollback exit ${rb.code}: ${rb.stderr}`);
    return { checkMs: check.ms, checked, remediateMs: rem.ms, fixed, rollbackMs: rb.ms };
  } finally {
    img.cleanup();
    rmSync(state, { recursive: true, force: true });
  }
}

/** µs per durable small-file replace through node:fs, on the file system the image copies live on. */
function floorUs(n = 300): number {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-bench-floor-"));
  try {
    const payload = new TextEncoder().encode("PermitRootLogin no\n");
    const file = join(dir, "f.conf");
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < n; i++) {
      const fd = openSync(`${file}.tmp`, "w", 0o644);
      writeSync(fd, payload);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(`${file}.tmp`, file);
      const d = openSync(dir, "r");
      fsyncSync(d);
      closeSync(d);
    }
    return (Bun.nanoseconds() - t0) / n / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The image bench's report lines (median of RUNS runs per path, paths interleaved). */
export async function benchImage(runs = Number(process.env.BENCH_RUNS ?? 3)): Promise<string[]> {
  buildBinary();
  const corpus = runnableCorpus();
  try {
    const res: Record<Path, Sample[]> = { "kernel-io": [], shell: [] };
    for (let i = 0; i < runs; i++) for (const p of ["kernel-io", "shell"] as const) res[p].push(once(p, corpus.dir));
    const floor = floorUs();
    const lines = [
      `${corpus.included.length} runnable shipped rules (${corpus.skipped.size} waiting for a mechanism), real Debian 12 image, compiled binary, median of ${runs} runs`,
      `durable-write floor: ${floor.toFixed(0)} µs per small-file replace`,
    ];
    for (const p of ["kernel-io", "shell"] as const) {
      const s = res[p];
      const c = median(s.map((x) => x.checkMs)), r = median(s.map((x) => x.remediateMs)), b = median(s.map((x) => x.rollbackMs));
      const checked = s[0]!.checked, fixed = s[0]!.fixed;
      const perRule = fixed ? r / fixed : 0;
      lines.push(
        `${p.padEnd(9)} check ${checked} rules ${c.toFixed(0).padStart(6)} ms (${(c / Math.max(checked, 1)).toFixed(1)} ms/rule)` +
          `   remediate ${fixed} ${r.toFixed(0).padStart(6)} ms (${perRule.toFixed(1)} ms/rule, ${((perRule * 1000) / floor).toFixed(0)}× floor)` +
          `   rollback ${b.toFixed(0).padStart(6)} ms`,
      );
    }
    return lines;
  } finally {
    corpus.cleanup();
  }
}

if (import.meta.main) for (const l of await benchImage()) console.log(l);
