/**
 * Property test: our evaluator against kmod itself.
 *
 * For each of N fresh random trees, a sysroot is laid out either merged-/usr
 * (`lib -> usr/lib`) or split (`lib` a real directory beside `usr/lib`), with
 * files in every modprobe.d directory a distribution might have, including
 * /usr/lib/modprobe.d. Our side reads it the way the check does: through a
 * real Host rooted there, with kmod's directory list (KMOD30_DIRS), so a
 * split-/usr /usr/lib/modprobe.d must stay unread. kmod's side is given its
 * compiled-in list mapped under the root with `-C` (kmod 30 accepts `-C`
 * repeatedly; each replaces the built-in list in order, so argument order is
 * precedence order and masking applies across them).
 *
 * Two judgements per tree:
 * - `modprobe -c`: the `blacklist ` and `install ` lines, in order, must equal
 *   renderModprobeC() (kmod prints a glob name as the pattern it stored);
 * - `modprobe -n -v -d KROOT -S 9.9.9 NAME` for two query modules that exist
 *   in a module index (empty .ko files + depmod, built once): the first
 *   `install …`/`insmod …` line must be what probeAction() predicts — this is
 *   where kmod's fnmatch() of install names (first match wins) shows.
 * The generator covers globs in install/blacklist/options names, CRLF,
 * trailing whitespace, comments after commands, continuations, /dev/null
 * masks and bad lines. All kmod calls of a run go through one sh script.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMOD30_DIRS, type ConfDir, evaluateModprobe, isModprobeConfName, probeAction, renderModprobeC } from "../../src/config/modprobe.ts";
import { gatherDirs } from "../../src/checks/fs-gather.ts";
import { createHost, kernelIoUnavailable } from "../../src/host/index.ts";
import { type Prng, prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 1000);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 20240601);
/** Where files are put: every directory a distribution may have; which of them kmod reads depends on the layout. */
const DIRS = ["etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d"];
const FILE_NAMES = ["00-a.conf", "10-b.conf", "50-x.conf", "a.conf", "b.alias", "c.txt", ".h.conf", "Z.conf", "_u.conf", "-d.conf", "x.conf.bak", "99-bulwark.conf"];
const MODULES = [
  "usb-storage", "usb_storage", "cramfs", "fat-x", "fat_x", "dccp", "a-b_c", "a_b-c", "sctp", "x[a-b]-y", "bad]name",
  // globs: kmod fnmatch()es install names, strcmp()s blacklist/options names
  "cram*", "usb[-_]storage", "usb?storage", "*", "fat[!y]*", "[a-c]*", "d*p", "cramf[[:alpha:]]", "*-x",
];
/** Modules in the index (empty .ko files): the ones `modprobe -n -v` is asked about. */
const QUERIES = ["cramfs", "usb-storage", "fat-x", "a-b_c", "dccp"];
const COMMANDS = ["/bin/false", "/bin/true", "/usr/bin/false", "false", "/sbin/modprobe --ignore-install M", "/bin/echo hi # c", "/bin/false\t", " /bin/true", "/bin/false # disabled by policy", "/bin/false  "];

const kmod = Bun.which("modprobe") ?? (Bun.file("/usr/sbin/modprobe").size ? "/usr/sbin/modprobe" : null);
const base = mkdtempSync(join(tmpdir(), "bulwark-kmod-prop-"));
// 1,000 trees take a while to remove on a loaded machine: give the hook room.
afterAll(() => rmSync(base, { recursive: true, force: true }), 300_000);

function ws(r: Prng): string {
  return r.pick([" ", " ", "  ", "\t", " \t "]);
}

function randomLine(r: Prng): string {
  const m = r.pick(MODULES);
  switch (r.int(12)) {
    case 0:
    case 1:
    case 2:
      return `blacklist${ws(r)}${m}${r.chance(0.2) ? " trailing" : ""}`;
    case 3:
    case 4:
    case 5:
      return `install${ws(r)}${m}${ws(r)}${r.pick(COMMANDS).replace("M", m)}`;
    case 6:
      return r.pick(["# install cramfs /bin/sh", "#blacklist dccp", "   # indented", ""]);
    case 7:
      // A continuation splitting a keyword or a name.
      return r.pick([`bla\\\ncklist ${m}`, `install ${m} \\\n/bin/false`, `install \\\n${m} /bin/true`]);
    case 8:
      return r.pick([`options ${m} a=1`, `options ${m}\tb=2 # c`, `alias foo ${m}`, `softdep ${m} pre: x`, `remove ${m} /bin/true`, `blacklist ${m} # comment`, `blacklist ${m}  `]);
    case 9:
      return r.pick(["blacklist", `install ${m}`, `install ${m} `, "frob x", `  blacklist ${m}`, `\tinstall ${m} /bin/false`]);
    case 10:
      return `blacklist ${m.replace("-", "\\-")}`;
    default:
      return `install ${m}${ws(r)}/bin/false${ws(r)}`;
  }
}

function randomTree(r: Prng): ConfDir[] {
  // The generator's ConfDirs hold logical paths; which are read is the layout's business.
  return DIRS.map((d) => {
    const files = new Map<string, string>();
    if (r.chance(0.75)) {
      const n = r.int(5);
      for (let i = 0; i < n; i++) {
        const lines = Array.from({ length: r.int(8) }, () => randomLine(r));
        let content = lines.join(r.chance(0.15) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : "");
        if (r.chance(0.03)) content += "blacklist eof\\";
        files.set(r.pick(FILE_NAMES), content);
      }
    }
    return { path: "/" + d, files: [...files].map(([name, content]) => ({ name, content })) };
  });
}

const q = (x: string) => `'${x.replaceAll("'", `'\\''`)}'`;

/** kmod's compiled-in directory list (kmod 30) mapped under ROOT. */
const kmodArgs = (root: string) => KMOD30_DIRS.flatMap((d) => ["-C", join(root, d)]);

/** The index kmod looks modules up in: empty .ko files are enough for depmod and `modprobe -n`. */
function buildIndex(): string {
  const kroot = join(base, "kroot");
  const kdir = join(kroot, "lib/modules/9.9.9/kernel");
  mkdirSync(kdir, { recursive: true });
  for (const m of QUERIES) writeFileSync(join(kdir, `${m}.ko`), "");
  Bun.spawnSync(["depmod", "-b", kroot, "9.9.9"], { stdout: "ignore", stderr: "ignore" });
  return kroot;
}

test.skipIf(!prerequisite("kmod (modprobe, depmod)", kmod !== null && Bun.which("depmod") !== null))(`modprobe-config/AC-09: ${TREES} random trees (globs, split /usr, CRLF) agree with kmod's modprobe -c and modprobe -n -v`, async () => {
  const kroot = buildIndex();
  const empty = join(base, "empty");
  mkdirSync(empty);
  const baseline = Bun.spawnSync([kmod!, "-c", "-C", empty], { stdout: "pipe", stderr: "pipe" });
  expect(Buffer.from(baseline.stdout).toString().split("\n").filter((l) => /^(blacklist|install) /.test(l))).toEqual([]);

  const r = prng(SEED);
  const started = performance.now();
  const hostPath = kernelIoUnavailable() === null ? "kernel-io" : "shell";
  const expected: { root: string; render: string[]; probes: [string, string][] }[] = [];
  const lines: string[] = ["set -u"];
  let masked = 0;
  let split = 0;
  for (let t = 0; t < TREES; t++) {
    const root = join(base, `t${t}`);
    const isSplit = r.chance(0.5);
    split += isSplit ? 1 : 0;
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    if (isSplit) mkdirSync(join(root, "lib"));
    else symlinkSync("usr/lib", join(root, "lib"));
    const tree = randomTree(r);
    for (const dir of tree) {
      // merged /usr: lib/modprobe.d IS usr/lib/modprobe.d, so its files land there too
      const p = join(root, dir.path);
      mkdirSync(p, { recursive: true });
      for (const f of dir.files) {
        // Now and then mask with a /dev/null symlink, the distro idiom: kmod reads it as empty.
        if (r.chance(0.05)) {
          try { symlinkSync("/dev/null", join(p, f.name)); } catch { /* merged: already there via the other name */ }
        } else writeFileSync(join(p, f.name), Buffer.from(f.content, "latin1"));
      }
    }
    const names = tree.flatMap((d) => d.files.map((f) => f.name));
    masked += names.length - new Set(names).size;
    const host = createHost({ path: hostPath, root });
    const cfg = evaluateModprobe(await gatherDirs(host, KMOD30_DIRS, isModprobeConfName));
    const queries = [r.pick(QUERIES), r.pick(QUERIES)];
    const probes = queries.map((m): [string, string] => {
      const a = probeAction(cfg, m);
      return [m, a.kind === "install" ? `install ${a.command} ${a.options}` : `insmod ${kroot}/lib/modules/9.9.9/kernel/${m}.ko ${a.options}`];
    });
    expected.push({ root, render: renderModprobeC(cfg), probes });
    const args = kmodArgs(root).map(q).join(" ");
    lines.push(`echo "== ${t} c"`, `${q(kmod!)} -c ${args} 2>/dev/null | grep -aE '^(blacklist|install) ' || true`);
    for (const m of queries) {
      lines.push(`echo "== ${t} n"`, `${q(kmod!)} -n -v -d ${q(kroot)} -S 9.9.9 ${args} ${q(m)} 2>/dev/null | grep -aE '^(install|insmod) ' | head -n 1 || true`);
    }
  }
  // One script file: 3,000 commands are too long for an argv (E2BIG).
  const script = join(base, "judge.sh");
  writeFileSync(script, lines.join("\n") + "\n");
  const out = Bun.spawnSync(["sh", script], { stdout: "pipe", stderr: "pipe" });
  const blocks = Buffer.from(out.stdout).toString("latin1").split(/^== \d+ [cn]\n/m).slice(1);
  expect(blocks.length).toBe(TREES * 3);
  let compared = 0;
  expected.forEach((e, t) => {
    const theirs = blocks[t * 3]!.split("\n").slice(0, -1);
    if (JSON.stringify(e.render) !== JSON.stringify(theirs)) {
      throw new Error(`tree ${t} (seed ${SEED}) at ${e.root}: modprobe -c disagrees:\nours:   ${JSON.stringify(e.render)}\nkmod:   ${JSON.stringify(theirs)}`);
    }
    e.probes.forEach(([m, want], i) => {
      const got = blocks[t * 3 + 1 + i]!.replace(/\n$/, "");
      if (got !== want) throw new Error(`tree ${t} (seed ${SEED}) at ${e.root}: modprobe -n -v ${m} disagrees:\nours:   ${JSON.stringify(want)}\nkmod:   ${JSON.stringify(got)}`);
    });
    compared += theirs.length + 2;
  });
  const ms = performance.now() - started;
  console.log(`kmod property: ${TREES} trees (${split} split /usr), ${compared} lines compared, ${masked} masked names, ${ms.toFixed(0)} ms`);
}, 900_000);
