/**
 * Random unit trees for the systemd-units property test: unit files with
 * random [Install] sections, masks (links to /dev/null, empty files),
 * aliases (valid and invalid), linked units outside the search path,
 * templates and instances (instances with and without a file of their own,
 * a template alias), and random existing links in .wants/.requires
 * directories of /etc, /run and the vendor directories.
 */
import { existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Prng } from "./prng.ts";

export const UNITS = ["a.service", "b.service", "c.service", "s.socket", "g.target", "t@.service", "t@one.service", "t@two.service", "m.mount", "z.timer"];
const TARGETS = ["g.target", "multi-user.target", "t@.service", "h.target"];
const VENDOR = ["/usr/lib/systemd/system", "/lib/systemd/system", "/usr/local/lib/systemd/system"];
const UNIT_DIRS = [...VENDOR, ...VENDOR, "/etc/systemd/system", "/etc/systemd/system", "/run/systemd/system", "/run/systemd/generator", "/run/systemd/transient", "/run/systemd/generator.late", "/etc/systemd/system.control"];
const LINK_DIRS = ["/etc/systemd/system", "/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/run/systemd/generator", "/etc/systemd/system.attached"];

export interface GenTree {
  merged: boolean;
  /** every name worth asking systemctl about */
  names: string[];
}

function installSection(r: Prng, self: string): string {
  const lines: string[] = [];
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const k = r.pick(["WantedBy", "WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also", "DefaultInstance", "WantedBy"]);
    if (k === "Alias") lines.push(`Alias=${r.pick(["x-alias.service", "y-alias.service", "x-alias.socket", "t@alias.service", "al@.service", self])}`);
    else if (k === "Also") lines.push(`Also=${r.pick(UNITS)}${r.chance(0.2) ? " " + r.pick(UNITS) : ""}`);
    else if (k === "DefaultInstance") lines.push(`DefaultInstance=${r.pick(["one", "two", "three", ""])}`);
    else lines.push(`${k}=${r.chance(0.1) ? "" : r.pick(TARGETS)}`);
  }
  if (!lines.length && r.chance(0.5)) return "";
  return `[Install]\n${lines.join("\n")}\n`;
}

const taken = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const put = (root: string, path: string, content: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  if (!taken(join(root, path))) writeFileSync(join(root, path), content);
};
const link = (root: string, path: string, target: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  try {
    symlinkSync(target, join(root, path));
  } catch {
    /* the name is taken: keep what is there */
  }
};

/** Build one random tree under ROOT (an empty directory). */
export function genTree(r: Prng, root: string): GenTree {
  const merged = r.chance(0.5);
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  if (merged) symlinkSync("usr/lib", join(root, "lib"));
  for (const d of ["etc/systemd/system", "usr/lib/systemd/system", "run/systemd/system"]) mkdirSync(join(root, d), { recursive: true });
  const names = new Set(UNITS);
  for (const u of UNITS) {
    const copies = r.pick([0, 1, 1, 1, 2]);
    for (let i = 0; i < copies; i++) {
      const dir = r.pick(UNIT_DIRS);
      const path = `${dir}/${u}`;
      const what = r.int(10);
      if (what < 6) put(root, path, `[Unit]\nDescription=${u}\n${r.chance(0.2) ? "\n# comment\n" : ""}${installSection(r, u)}`);
      else if (what === 6) put(root, path, "");
      else if (what === 7) link(root, path, r.pick(["/dev/null", "../../../dev/null"]));
      else if (what === 8) link(root, path, r.pick(VENDOR) + "/" + r.pick(UNITS));
      else {
        put(root, `/opt/${u}`, `[Unit]\n${installSection(r, u)}`);
        link(root, path, r.chance(0.8) ? `/opt/${u}` : `/opt/${r.pick(UNITS)}`);
      }
    }
  }
  const extra = r.int(6);
  for (let i = 0; i < extra; i++) {
    const dir = r.pick(LINK_DIRS);
    // Instances without a file of their own (t@three), and a template alias (al@ → t@) with an instance of it.
    const name = r.pick([...UNITS, "x-alias.service", "y-alias.service", "x-alias.socket", "t@alias.service", "t@three.service", "t@three.service", "al@.service", "al@one.service"]);
    names.add(name);
    const dest = r.pick([`${r.pick(VENDOR)}/${r.pick(UNITS)}`, `/etc/systemd/system/${r.pick(UNITS)}`, "/dev/null", `/nowhere/${name}`, r.pick(UNITS)]);
    if (r.chance(0.6)) link(root, `${dir}/${r.pick(TARGETS)}.${r.pick(["wants", "wants", "requires", "upholds", "other"])}/${name}`, dest);
    else link(root, `${dir}/${name}`, dest);
  }
  for (const n of ["x-alias.service", "y-alias.service", "x-alias.socket", "t@alias.service", "al@.service", "al@one.service", "t@three.service", "nothing.service"]) names.add(n);
  return { merged, names: [...names] };
}

/**
 * The judge, cheaply: one `systemctl --root list-unit-files` (the same
 * unit_file_lookup_state per file found, "bad" for an error), then
 * `is-enabled` for each name it does not list (not found, or an instance
 * of a template) and for each .service when generator directories exist
 * (where is-enabled's SysV check can fail a unit list-unit-files shows).
 */
export function systemctlListStates(root: string, names: readonly string[]): Map<string, string> {
  const r = Bun.spawnSync(["systemctl", `--root=${root}`, "list-unit-files", "--no-legend", "--no-pager", "--full"], { env: { ...process.env, SYSTEMD_LOG_LEVEL: "err" }, stdout: "pipe", stderr: "pipe" });
  const out = new Map<string, string>();
  // is-enabled (not list-unit-files) first looks a .service up again without the generator directories (SysV
  // compatibility) and fails on what it finds there: with a generator directory, ask is-enabled for every .service.
  const generators = ["generator.early", "generator", "generator.late"].some((g) => existsSync(join(root, "run/systemd", g)));
  for (const line of r.stdout.toString().split("\n")) {
    const [name, state] = line.trim().split(/\s+/);
    // "bad" is any error here, where is-enabled tells "not found" apart: ask is-enabled for those.
    if (name && state && state !== "bad" && names.includes(name) && !(generators && name.endsWith(".service"))) out.set(name, state);
  }
  const rest = names.filter((n) => !out.has(n));
  for (const [k, v] of systemctlStates(root, rest)) out.set(k, v);
  return out;
}

/**
 * `systemctl --root=ROOT is-enabled NAME` for each name, one systemctl per
 * name (one shell): its state, "not-found", or "bad" (any other error).
 * (Several names in one systemctl call stop at the first error and were
 * seen to misreport later names; one call per name is the judge of record.)
 */
export function systemctlStates(root: string, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (names.length === 0) return out;
  // One systemctl per name, stdout and stderr of the same call, the names in parallel (each line is keyed by its name).
  const script = `d=$(mktemp -d); i=0; for u in "$@"; do i=$((i+1)); ( s=$(systemctl --root="$R" is-enabled -- "$u" 2>"$d/$i" | head -n 1); printf '%s|%s|%s\\n' "$u" "$s" "$(tail -n 1 "$d/$i")" ) & done; wait; rm -rf "$d"`;
  const r = Bun.spawnSync(["sh", "-c", script, "sh", ...names], { env: { ...process.env, R: root, SYSTEMD_LOG_LEVEL: "err" }, stdout: "pipe", stderr: "pipe" });
  for (const line of r.stdout.toString().split("\n")) {
    const [name, state, err = ""] = line.split("|");
    if (!name) continue;
    out.set(name, state ? state.trim() : /No such file or directory/.test(err) ? "not-found" : "bad");
  }
  return out;
}
