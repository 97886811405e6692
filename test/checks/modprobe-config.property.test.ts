/**
 * Property test: our evaluator against kmod itself.
 *
 * For each of N fresh random trees, the five modprobe.d directories are
 * written under a temp dir and kmod is asked for the effective configuration
 * with `modprobe -c -C D1 -C D2 …`. kmod 30 accepts `-C` repeatedly: each one
 * appends a config path, in order, replacing the built-in list — so argument
 * order is precedence order and the masking rule applies across them (checked
 * by hand before writing this: a name in the first -C dir masks the same name
 * in the second, and files are read in name order across both).
 *
 * `modprobe -c` also prints `options` lines taken from /proc/cmdline and
 * `alias` lines from the module indexes; only `blacklist ` and `install `
 * lines are compared, in order, against renderModprobeC(). The baseline (an
 * empty config) must have none, or the comparison would be meaningless.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfDir, evaluateModprobe, renderModprobeC } from "../../src/checks/modprobe-config.ts";
import { type Prng, prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 1000);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 20240601);
const DIRS = ["etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d"];
const FILE_NAMES = ["00-a.conf", "10-b.conf", "50-x.conf", "a.conf", "b.alias", "c.txt", ".h.conf", "Z.conf", "_u.conf", "-d.conf", "x.conf.bak", "99-bulwark.conf"];
const MODULES = ["usb-storage", "usb_storage", "cramfs", "fat-x", "fat_x", "dccp", "a-b_c", "a_b-c", "sctp", "x[a-b]-y", "bad]name"];
const COMMANDS = ["/bin/false", "/bin/true", "/usr/bin/false", "false", "/sbin/modprobe --ignore-install M", "/bin/echo hi # c", "/bin/false\t", " /bin/true"];

const kmod = Bun.which("modprobe") ?? (Bun.file("/usr/sbin/modprobe").size ? "/usr/sbin/modprobe" : null);
const base = mkdtempSync(join(tmpdir(), "bulwark-kmod-prop-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

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
      return r.pick([`options ${m} a=1`, `alias foo ${m}`, `softdep ${m} pre: x`, `remove ${m} /bin/true`]);
    case 9:
      return r.pick(["blacklist", `install ${m}`, `install ${m} `, "frob x", `  blacklist ${m}`, `\tinstall ${m} /bin/false`]);
    case 10:
      return `blacklist ${m.replace("-", "\\-")}`;
    default:
      return `install ${m}${ws(r)}/bin/false${ws(r)}`;
  }
}

function randomTree(r: Prng): ConfDir[] {
  return DIRS.map((d) => {
    const files = new Map<string, string>();
    if (r.chance(0.75)) {
      const n = r.int(5);
      for (let i = 0; i < n; i++) {
        const lines = Array.from({ length: r.int(8) }, () => randomLine(r));
        let content = lines.join(r.chance(0.1) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : "");
        if (r.chance(0.03)) content += "blacklist eof\\";
        files.set(r.pick(FILE_NAMES), content);
      }
    }
    return { path: "/" + d, files: [...files].map(([name, content]) => ({ name, content })) };
  });
}

function kmodConfig(dirs: string[]): string[] {
  const out = Bun.spawnSync([kmod!, "-c", ...dirs.flatMap((d) => ["-C", d])], { stdout: "pipe", stderr: "pipe" });
  return Buffer.from(out.stdout)
    .toString("latin1")
    .split("\n")
    .filter((l) => l.startsWith("blacklist ") || l.startsWith("install "));
}

test.skipIf(!prerequisite("kmod (modprobe)", kmod !== null))(`modprobe-config/AC-09: ${TREES} random trees agree with kmod's modprobe -c`, () => {
  const empty = join(base, "empty");
  mkdirSync(empty);
  expect(kmodConfig([empty])).toEqual([]);

  const r = prng(SEED);
  const started = performance.now();
  let lines = 0;
  let masked = 0;
  for (let t = 0; t < TREES; t++) {
    const root = join(base, `t${t}`);
    const tree = randomTree(r);
    const real: string[] = [];
    for (const dir of tree) {
      const p = join(root, dir.path);
      real.push(p);
      mkdirSync(p, { recursive: true });
      for (const f of dir.files) {
        // Now and then mask with a /dev/null symlink, the distro idiom: kmod reads it as empty.
        if (r.chance(0.05)) {
          symlinkSync("/dev/null", join(p, f.name));
          f.content = "";
        } else writeFileSync(join(p, f.name), Buffer.from(f.content, "latin1"));
      }
    }
    const names = tree.flatMap((d) => d.files.map((f) => f.name));
    masked += names.length - new Set(names).size;
    const ours = renderModprobeC(evaluateModprobe(tree.map((d) => ({ ...d, path: join(root, d.path) }))));
    const theirs = kmodConfig(real);
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      // Keep the tree for replay and say which seed/tree it was.
      throw new Error(`tree ${t} (seed ${SEED}) at ${root} disagrees:\nours:   ${JSON.stringify(ours)}\nkmod:   ${JSON.stringify(theirs)}`);
    }
    lines += theirs.length;
    rmSync(root, { recursive: true, force: true });
  }
  const ms = performance.now() - started;
  console.log(`kmod property: ${TREES} trees, ${lines} blacklist/install lines compared, ${masked} masked names, ${ms.toFixed(0)} ms`);
}, 120_000);
