/**
 * Property test: our sysctl line parser and last-wins evaluation against
 * procps itself.
 *
 * procps cannot be pointed at a root for `--system`, so the directory rules
 * (masking, name order, sysctl.conf last) are proven by unit tests only. What
 * procps CAN judge is everything after the file order is fixed: line syntax,
 * key spellings, `-` prefixes, globs and excludes, and which assignment is
 * written last. `sysctl --dry-run -p F1 F2 …` parses the files in that order
 * and prints `key = value` for every write it would make, writing nothing
 * (procps 4: the only write, fprocopen(path, "w"), sits under `if (!DryRun)`).
 * It does stat the real /proc/sys to expand globs and to skip unknown or
 * read-only keys, so the keys used are real writable ones on this machine and
 * the comparison is per key: the last value procps prints for it must be the
 * value effectiveSysctl() computes. Skipped when sysctl lacks --dry-run.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { effectiveSysctl, evaluateSysctl, sysctlPath } from "../../src/config/sysctl.ts";
import { prng, type Prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const ROUNDS = Number(process.env.BULWARK_PROPERTY_TREES ?? 1000);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 7151);

const sysctl = Bun.which("sysctl") ?? Bun.which("sysctl", { PATH: "/usr/sbin:/sbin" });
const hasDryRun = (() => {
  if (!sysctl) return false;
  const h = Bun.spawnSync([sysctl, "--help"], { stdout: "pipe", stderr: "pipe" });
  return Buffer.from(h.stdout).toString().includes("--dry-run");
})();

const CANDIDATES = [
  "kernel.domainname",
  "vm.swappiness",
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.default.rp_filter",
  "net.ipv4.conf.lo.rp_filter",
  "net.ipv4.conf.all.accept_redirects",
  "net.ipv4.conf.default.accept_redirects",
];
/** Keys that exist and are writable (mode u+w) here: procps dry-run skips others. */
const POOL = CANDIDATES.filter((k) => {
  try {
    return (statSync("/proc/sys/" + sysctlPath(k)).mode & 0o200) !== 0;
  } catch {
    return false;
  }
});
const GLOBS = ["net.ipv4.conf.*.rp_filter", "net/ipv4/conf/*/rp_filter", "net.ipv4.conf.[ad]*.rp_filter", "net.ipv4.conf.?o.rp_filter", "net.ipv4.conf.*.accept_redirects", "vm.swap*"];
const EXCLUDES = ["-net.ipv4.conf.all.rp_filter", "-net.ipv4.conf.*.rp_filter", "-vm.swappiness", "-net/ipv4/conf/lo/rp_filter", "-net.ipv4.conf.d*.accept_redirects"];
const VALUES = ["0", "1", "2", " 1 ", "3 4", "x=y", "5 # c", "", "a;b", "\t7\t"];

const base = mkdtempSync(join(tmpdir(), "bulwark-sysctl-prop-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function spell(r: Prng, key: string): string {
  const slashed = sysctlPath(key);
  return r.pick([key, key, slashed, key.replace(".", "/")]); // the last one is a wrong mixed spelling
}

function randomLine(r: Prng): string {
  const ws = () => r.pick(["", " ", "  ", "\t"]);
  switch (r.int(10)) {
    case 0:
      return r.pick(["# kernel.domainname = z", "; vm.swappiness = 99", "", "   ", "  # indented", "novalue", "x"]);
    case 1:
      return `${ws()}${r.pick(GLOBS)}${ws()}=${ws()}${r.pick(VALUES)}`;
    case 2:
      return `${ws()}${r.pick(EXCLUDES)}${ws()}`;
    default:
      return `${ws()}${r.pick(["", "", "", "-"])}${spell(r, r.pick(POOL))}${ws()}=${ws()}${r.pick(VALUES)}${ws()}`;
  }
}

function procpsFinalValues(files: string[]): Map<string, string> {
  const out = Bun.spawnSync([sysctl!, "--dry-run", "-p", ...files], { stdout: "pipe", stderr: "pipe" });
  const last = new Map<string, string>();
  for (const line of Buffer.from(out.stdout).toString("latin1").split("\n")) {
    const i = line.indexOf(" = ");
    if (i > 0) last.set(sysctlPath(line.slice(0, i)), line.slice(i + 3));
  }
  return last;
}

test.skipIf(!prerequisite("procps 4 (sysctl --dry-run) and writable /proc/sys keys", hasDryRun && POOL.length >= 3))(`sysctl-value/AC-12: ${ROUNDS} random file sets agree with procps sysctl --dry-run -p`, () => {
  const r = prng(SEED);
  const started = performance.now();
  let compared = 0;
  let set = 0;
  for (let t = 0; t < ROUNDS; t++) {
    const dir = join(base, `t${t}`);
    mkdirSync(dir);
    const files = Array.from({ length: 1 + r.int(4) }, (_, i) => {
      const lines = Array.from({ length: r.int(10) }, () => randomLine(r));
      return { name: `f${i}.conf`, content: lines.join(r.chance(0.1) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : "") };
    });
    for (const f of files) writeFileSync(join(dir, f.name), f.content);
    const cfg = evaluateSysctl([{ path: dir, files }], null);
    const theirs = procpsFinalValues(files.map((f) => join(dir, f.name)));
    for (const key of POOL) {
      const ours = effectiveSysctl(cfg, key).value;
      const p = sysctlPath(key);
      if (ours !== (theirs.get(p) ?? null)) {
        throw new Error(
          `round ${t} (seed ${SEED}) at ${dir}: ${key}: ours ${JSON.stringify(ours)}, procps ${JSON.stringify(theirs.get(p) ?? null)}\n` +
            files.map((f) => `--- ${f.name}\n${JSON.stringify(f.content)}`).join("\n"),
        );
      }
      compared++;
      if (ours !== null) set++;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = performance.now() - started;
  console.log(`procps property: ${ROUNDS} file sets, ${compared} key verdicts (${set} set), pool ${POOL.length} keys, ${ms.toFixed(0)} ms`);
}, 600_000);
