/**
 * GNU find is the judge: random trees (types, modes with special bits,
 * owners) in temp dirs, and for each a set of find_args — every shape of the
 * reference corpus plus random -perm masks — evaluated by Bulwark (the
 * Host's walk + config/find-select.ts) and by `find` itself. Also: mode as a
 * maximum against `find -perm /EXCESS`, and symbolic modes against chmod(1).
 * Zero disagreements, both Host paths.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lchownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { parseFindArgs } from "../../src/params/find-expr.ts";
import { applyMode, parseMode } from "../../src/params/file-mode.ts";
import { selects } from "../../src/config/find-select.ts";
import { parsePasswd, parseGroup, resolveAccount } from "../../src/config/passwd.ts";
import { makeSysroot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";
import { prng, type Prng } from "./prng.ts";

const haveFind = prerequisite("GNU find", spawnSync("find", ["--version"]).stdout?.toString().includes("GNU findutils") ?? false);
const TREES = 40;
const { root, cleanup } = makeSysroot("bulwark-find-judge-");
afterAll(cleanup);

// The machine's accounts are what find resolves -user/-group against; the test resolves the same way.
const users = parsePasswd(readFileSync("/etc/passwd", "latin1"));
const groups = parseGroup(readFileSync("/etc/group", "latin1"));
const resolve = (kind: "user" | "group", name: string) => resolveAccount(kind === "user" ? users : groups, name);

const CORPUS_ARGS = [
  "! -user root", "! -group root", "-perm /o+r", "-xdev -perm -0002 ! -perm -1000", "-xdev -perm -0002 -uid +999",
  "-perm /022", "-xdev -perm -0002 -gid +999", "-xdev -perm -0002", "-maxdepth 2 -name '.*' -perm /o+w", "-maxdepth 2 -perm /go+w",
  "-perm /0177", "\\( -name '*.conf' -o -name '*.rules' \\)", "-maxdepth 1 -mindepth 1 -perm /027",
  "-maxdepth 2 \\( -name '.bashrc' -o -name '.profile' \\) -perm /037", "-mindepth 2 ! -name '.*' -perm /027", "",
];
const NAMES = ["a", "b.conf", ".bashrc", ".profile", "x.rules", "lib.so.1", ".hidden", "c d", "e"];
const IDS = [0, 1, 2, 999, 1000, 1001, 65534];

function randomMask(r: Prng): string {
  const m = r.int(0o10000);
  const body = r.chance(0.3) ? r.pick(["o+r", "go+w", "g+s", "u+x", "a+t", "o+w,g+r", "u=rw"]) : m.toString(8).padStart(4, "0");
  return `${r.pick(["", "-", "/"])}${body}`;
}
function randomArgs(r: Prng): string {
  if (r.chance(0.5)) return r.pick(CORPUS_ARGS);
  const t = () => r.pick([`-perm ${randomMask(r)}`, `-uid ${r.pick(["+", "-", ""])}${r.pick(IDS)}`, `-gid +${r.pick(IDS)}`, `-name '${r.pick(["*.conf", ".*", "?", "[ab]*"])}'`, `-user ${r.pick(["root", "daemon", "1000"])}`]);
  const clause = () => `${r.chance(0.3) ? "! " : ""}${t()}`;
  const depth = r.chance(0.4) ? `-maxdepth ${r.int(4)} ` : r.chance(0.2) ? `-mindepth ${r.int(3)} ` : "";
  return r.chance(0.3) ? `${depth}\\( ${clause()} -o ${clause()} \\) ${clause()}` : `${depth}${clause()} ${r.chance(0.5) ? "-a " : ""}${clause()}`;
}

/** A random tree under DIR: directories to depth 3, files, symlinks (to dirs too: never followed). */
function randomTree(r: Prng, dir: string, depth = 0): void {
  mkdirSync(dir, { recursive: true });
  const n = 1 + r.int(5);
  for (let i = 0; i < n; i++) {
    const p = join(dir, `${r.pick(NAMES)}${i}`.replace(/^(\.?[a-z. ]+?)(\d)$/, r.chance(0.5) ? "$1" : "$1$2"));
    try {
      const kind = r.int(10);
      if (kind < 3 && depth < 3) randomTree(r, p, depth + 1);
      else if (kind < 4) { symlinkSync(r.chance(0.5) ? dir : "/etc", p); lchownSync(p, r.pick(IDS), r.pick(IDS)); continue; }
      else writeFileSync(p, "");
      chownSync(p, r.pick(IDS), r.pick(IDS));
      chmodSync(p, r.int(0o10000));
    } catch {
      // a name drawn twice: keep the first
    }
  }
}

describe.skipIf(!haveFind).each(allHostPaths)("%s host", (hostPath) => {
  test("find-select/AC-01: Bulwark's selection equals GNU find's over random trees and every corpus find_args shape (0 disagreements)", async () => {
    const host = createHost({ path: hostPath, root });
    const disagreements: string[] = [];
    let compared = 0;
    let nonEmpty = 0;
    for (let seed = 1; seed <= TREES; seed++) {
      const r = prng(seed * 7919 + (hostPath === "shell" ? 1 : 0));
      const t = `t-${hostPath}-${seed}`;
      randomTree(r, join(root, t));
      const walked = (await host.walk(`/${t}`, { maxDepth: 4096, xdev: true }))!;
      for (let k = 0; k < 6; k++) {
        const args = randomArgs(r);
        const type = r.pick(["f", "d"] as const);
        const parsed = parseFindArgs(args);
        if (typeof parsed === "string") throw new Error(`${args}: ${parsed}`);
        const ours = walked
          .filter((e) => e.stat.type === (type === "f" ? "file" : "dir"))
          .filter((e) => selects(parsed, { name: e.depth === 0 ? t : e.path.slice(e.path.lastIndexOf("/") + 1), depth: e.depth, ...e.stat }, resolve))
          .map((e) => e.path.slice(t.length + 2) || ".")
          .sort();
        const shellArgs = `find ${join(root, t)} -type ${type} ${args} -printf '%P\\n'`;
        const fr = spawnSync("/bin/sh", ["-c", shellArgs], { encoding: "utf8" });
        if (fr.status !== 0) throw new Error(`${shellArgs}: ${fr.stderr}`);
        const theirs = fr.stdout.split("\n").filter((l, i, a) => i < a.length - 1).map((l) => l || ".").sort();
        compared++;
        if (theirs.length) nonEmpty++;
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) disagreements.push(`seed ${seed} -type ${type} ${args}: bulwark ${JSON.stringify(ours)} find ${JSON.stringify(theirs)}`);
      }
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(compared).toBe(TREES * 6);
    // The judge is only as good as its cases: most selections must pick something.
    expect(nonEmpty).toBeGreaterThan(compared / 3);
  }, 120_000);
});

describe.skipIf(!haveFind)("modes", () => {
  test("file-permission/AC-04: mode as a maximum passes exactly when `find -perm /EXCESS` finds nothing, over every mode × random maxima", () => {
    const d = join(root, "max");
    mkdirSync(d, { recursive: true });
    const f = join(d, "f");
    writeFileSync(f, "");
    const r = prng(42);
    const bad: string[] = [];
    for (let i = 0; i < 300; i++) {
      const mode = r.int(0o10000);
      const max = r.pick([0o644, 0o640, 0o600, 0o700, 0o755, 0o750, 0o000, 0o740, r.int(0o10000)]);
      chmodSync(f, mode);
      const excess = (~max & 0o7777).toString(8);
      const found = spawnSync("find", [f, "-perm", `/${excess}`]).stdout.toString() !== "";
      const ours = (mode & ~max & 0o7777) === 0;
      // find's /0 matches everything: a max of 07777 allows every mode.
      if (ours === found && excess !== "0") bad.push(`${mode.toString(8)} under ${max.toString(8)}`);
      // Applying the maximum gives a mode that passes and never grants a bit.
      const after = applyMode({ kind: "max", mode: max }, mode, false);
      if ((after & ~max) !== 0 || (after & ~mode) !== 0) bad.push(`apply ${max.toString(8)} to ${mode.toString(8)} = ${after.toString(8)}`);
    }
    expect(bad).toEqual([]);
  }, 60_000);

  test("file-permissions/AC-10: symbolic modes give the bits chmod(1) gives, for files and directories", () => {
    const d = join(root, "sym");
    mkdirSync(join(d, "dir"), { recursive: true });
    writeFileSync(join(d, "file"), "");
    const r = prng(7);
    const bad: string[] = [];
    const clauses = ["o-r", "+t", "go-w", "o-w", "g-w,o-rwx", "u+x", "a-x", "g=r", "o=", "u+s", "g-s", "a+X", "go+rX", "u=rwx,g=rx,o=", "a-t", "g+w,o-w"];
    for (let i = 0; i < 400; i++) {
      const text = r.pick(clauses);
      const isDir = r.chance(0.5);
      const p = join(d, isDir ? "dir" : "file");
      const mode = r.int(0o10000);
      chmodSync(p, mode);
      // chmod keeps a directory's setuid/setgid for some modes: start from what the kernel holds.
      spawnSync("chmod", ["--", text, p]);
      const theirs = statSync(p).mode & 0o7777;
      const spec = parseMode(text);
      if (typeof spec === "string") throw new Error(spec);
      const ours = applyMode(spec, mode, isDir);
      if (ours !== theirs) bad.push(`${text} on ${isDir ? "dir" : "file"} ${mode.toString(8)}: bulwark ${ours.toString(8)} chmod ${theirs.toString(8)}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  }, 60_000);
});
