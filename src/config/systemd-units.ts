/**
 * systemd's unit-file state, decided the way `systemctl is-enabled` decides
 * it (systemd 252, src/shared/install.c unit_file_lookup_state), and the
 * symlinks `systemctl enable|disable|mask|unmask` would create or remove.
 * Pure: a snapshot of the search directories in, states and link plans out.
 *
 * Facts (read from install.c / path-lookup.c of 252 and confirmed against
 * `systemctl --root` by test/config/systemd-units.property.test.ts):
 * - Search path, in order (SEARCH_DIRS). The first directory holding the
 *   name wins; an instance foo@x.service not found anywhere is looked up
 *   again as its template foo@.service.
 * - An entry that is a symlink: its target is made absolute (relative to the
 *   link's directory) and its directories resolved inside the root. A target
 *   equal to /dev/null, or resolving to an empty regular file or a device,
 *   masks the unit. Outside the search path it is "linked"; inside, an alias
 *   (validated: same unit type, no self-alias (ELOOP), instance/template
 *   rules), followed to its target name.
 * - An empty regular file masks too. Masked in /run is masked-runtime.
 * - For a regular unit: an alias name (queried name ≠ file name) is "alias";
 *   a file in a generator directory "generated", in /run/systemd/transient
 *   "transient". Else links are searched in every search directory: first a
 *   link whose name is one [Install] would create (the unit's own name, an
 *   Alias=, the DefaultInstance instance) → enabled (in /etc) or
 *   enabled-runtime (under /run); then any link of the unit → indirect; a
 *   same-name link in /etc pointing at the unit → linked. A link of the unit
 *   found only elsewhere (vendor, control, attached) makes an instance
 *   "static" and counts for nothing else. Names in *.wants/*.requires count
 *   by their own name, or as an instance of a template (foo@bar.service is
 *   of foo@.service); top-level links by their name or their destination's;
 *   links in a directory below the one holding the unit file count by their
 *   destination only. An instance without a file of its own is judged on
 *   its template's file under its own name (DefaultInstance= ignored).
 * - Before all that, a .service is looked up again without the generator
 *   directories, config links not followed (systemctl's SysV check): any
 *   error there but ELOOP is "bad", even for a generated unit.
 * - No links: [Install] with WantedBy/RequiredBy/Alias → disabled (252 does
 *   not know UpheldBy= in [Install]: "unknown key, ignoring"),
 *   only Also= → indirect, nothing → static.
 * - Anything systemctl refuses (invalid name, bad alias, loops, a directory
 *   or dangling link where a unit file should be) is "bad" here; systemctl
 *   prints an error instead of a state.
 */
import { unitNameKind } from "../params/unit-name.ts";
export { unitNameKind, type NameKind } from "../params/unit-name.ts";

/** Where systemd 252 (Debian 12 build) looks for system units, highest priority first. */
export const SEARCH_DIRS = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/run/systemd/generator.early",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  "/run/systemd/generator",
  "/usr/local/lib/systemd/system",
  "/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/run/systemd/generator.late",
] as const;

/** Where `systemctl enable|mask` writes (persistent configuration). */
export const CONFIG_DIR = "/etc/systemd/system";
const GENERATOR_DIRS = new Set(["/run/systemd/generator.early", "/run/systemd/generator", "/run/systemd/generator.late"]);
/** Everything under /run is runtime: its links make a unit enabled-runtime, its masks masked-runtime. */
const isRuntime = (dir: string): boolean => dir.startsWith("/run/");

export type UnitFileState =
  | "enabled" | "enabled-runtime" | "linked" | "linked-runtime" | "alias" | "masked" | "masked-runtime"
  | "static" | "indirect" | "disabled" | "generated" | "transient" | "bad" | "not-found";

/** What the target of a symlink is, after resolving it inside the root. */
export type LinkDest =
  /** /dev/null, an empty regular file or a device: a mask */
  | "null"
  | "file"
  | "missing"
  /** a directory, FIFO or socket: not a unit file */
  | "other";

/** One entry directly in a search directory. */
export type UnitEntry =
  | { kind: "file"; content: string }
  | {
      kind: "link";
      /** the link's target as stored */
      target: string;
      /** absolute logical path of the target, its directories resolved inside the root (final component not followed) */
      dest: string;
      /** what the target finally is (every link followed) */
      to: LinkDest;
      /** the bytes of the final file, read only for a target outside the search path (a linked unit) */
      content?: string;
    }
  | { kind: "dir" }
  /** a device: systemd reads it as /dev/null, a mask */
  | { kind: "other" }
  /** a FIFO or socket: systemd refuses it (not a regular file) */
  | { kind: "special"; what: "fifo" | "socket" };

/** A link inside a NAME.wants/.requires/.upholds directory: only its name and target matter. */
export interface DepLink {
  /** e.g. "multi-user.target.wants" */
  dir: string;
  name: string;
  target: string;
}

/** One search directory as read: absent directories are simply missing from the snapshot. */
export interface SearchDir {
  /** logical path, one of SEARCH_DIRS */
  path: string;
  entries: ReadonlyMap<string, UnitEntry>;
  /** links in its .wants/.requires subdirectories (every search directory: a vendor one makes an instance static) */
  deps: readonly DepLink[];
}

/** A snapshot of the unit search path. `same` maps a directory to the earlier one it is (merged /usr: /usr/lib/systemd/system is /lib/systemd/system). */
export interface UnitTree {
  dirs: readonly SearchDir[];
}

/** A unit's [Install] section (lists in file order, an empty assignment resets). */
export interface InstallInfo {
  wantedBy: string[];
  requiredBy: string[];
  alias: string[];
  also: string[];
  defaultInstance: string | null;
}

// ---------- unit names (src/basic/unit-name.c; validation in params/unit-name.ts) ----------

const MAY_ALIAS = new Set(["service", "socket", "target", "device", "timer", "path"]);
const MAY_TEMPLATE = new Set(["service", "socket", "target", "timer", "path"]);

/** "foo.service" → "service". */
export const unitType = (name: string): string => name.slice(name.lastIndexOf(".") + 1);
const instanceOf = (name: string): string | null => {
  const stem = name.slice(0, name.lastIndexOf("."));
  const at = stem.indexOf("@");
  return at < 0 || at === stem.length - 1 ? null : stem.slice(at + 1);
};
/** "foo@bar.service" → "foo@.service". */
export const templateOf = (name: string): string => {
  const dot = name.lastIndexOf(".");
  const at = name.indexOf("@");
  return name.slice(0, at + 1) + name.slice(dot);
};
const withInstance = (template: string, instance: string): string => {
  const at = template.indexOf("@");
  return template.slice(0, at + 1) + instance + template.slice(at + 1);
};
const base = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
const dirOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf("/"), 0)) || "/";

// ---------- [Install] (src/shared/conf-parser.c, install.c config_parse_*) ----------

/** Parse the [Install] section of a unit file (comments # and ;, continuation lines, last section wins per key list). */
export function parseInstall(content: string): InstallInfo {
  const info: InstallInfo = { wantedBy: [], requiredBy: [], alias: [], also: [], defaultInstance: null };
  let section = "";
  let pending = "";
  for (const raw of content.split("\n")) {
    let line = raw.replace(/\r$/, "");
    if (pending) {
      // A comment line inside a continuation is skipped, as conf-parser does.
      if (/^\s*[#;]/.test(line)) continue;
      line = pending + " " + line.trim();
      pending = "";
    }
    if (/\\$/.test(line)) {
      pending = line.slice(0, -1);
      continue;
    }
    const t = line.trim();
    if (t === "" || t.startsWith("#") || t.startsWith(";")) continue;
    if (t.startsWith("[")) {
      section = t.endsWith("]") ? t.slice(1, -1) : "";
      continue;
    }
    if (section !== "Install") continue;
    const eq = t.indexOf("=");
    if (eq < 0) continue;
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    const words = value.split(/\s+/).filter(Boolean);
    const list = ({ WantedBy: info.wantedBy, RequiredBy: info.requiredBy, Alias: info.alias, Also: info.also } as Record<string, string[]>)[key];
    if (list) {
      if (value === "") list.length = 0;
      else list.push(...words);
    } else if (key === "DefaultInstance") info.defaultInstance = value === "" ? null : value;
  }
  return info;
}

// ---------- lookup ----------

type Mode = "regular" | "masked" | "alias" | "linked";
interface Found {
  name: string;
  /** the path systemd holds for it (the entry's logical path; for a followed link, its target) */
  path: string;
  mode: Mode;
  /** the search directory the entry was found in */
  dir: string;
  content: string | null;
  dest?: string;
  /** for a link out of the search path: its file's bytes (undefined: missing or not a file) */
  destContent?: string;
  /** for a link: what its target finally is */
  to?: LinkDest;
}

class Bad extends Error {}
/** systemctl's ELOOP: too many links, a self-alias, or a link in a config directory when config links are not followed. */
class Loop extends Bad {}
class NotFound extends Error {}

/** Lookup helper over one snapshot. */
class Lookup {
  constructor(
    private readonly tree: UnitTree,
    private readonly searchPath: readonly string[] = SEARCH_DIRS,
  ) {}

  private inSearchPath(path: string): boolean {
    return this.searchPath.some((d) => path.startsWith(d + "/"));
  }

  /** Load ENTRY found as DIR/NAME (unit_file_load_or_readlink). */
  private load(name: string, dir: string, entry: UnitEntry): Found {
    const path = `${dir}/${name}`;
    if (entry.kind === "dir" ) throw new Bad(`${path} is a directory`);
    if (entry.kind === "other") return { name, path, mode: "masked", dir, content: null };
    if (entry.kind === "special") throw new Bad(`${path} is a ${entry.what === "fifo" ? "FIFO" : "socket"}, not a unit file`);
    if (entry.kind === "file") {
      if (entry.content.length === 0) return { name, path, mode: "masked", dir, content: null };
      return { name, path, mode: "regular", dir, content: entry.content };
    }
    const inside = this.inSearchPath(entry.dest);
    if (inside) validateAlias(name, base(entry.dest));
    if (entry.dest === "/dev/null" || entry.to === "null") return { name, path, mode: "masked", dir, content: null };
    // systemd follows the link and refuses what is not a regular file (a directory, FIFO or socket).
    if (entry.to === "other") throw new Bad(`${path} points to ${entry.dest}, which is not a unit file`);
    return { name, path, mode: inside ? "alias" : "linked", dir, content: null, dest: entry.dest, destContent: entry.content, to: entry.to };
  }

  /** unit_file_search: the first directory holding NAME (then its template). */
  search(name: string): Found {
    const kind = unitNameKind(name);
    if (!kind) throw new Bad(`invalid unit name ${name}`);
    const names = kind === "instance" ? [name, templateOf(name)] : [name];
    for (const n of names) {
      for (const d of this.tree.dirs) {
        const e = d.entries.get(n);
        if (e) return { ...this.load(n, d.path, e), name };
      }
    }
    throw new NotFound(name);
  }

  /** The entry at an absolute logical PATH, if it lies directly in a search directory. */
  private entryAt(path: string): { dir: string; entry: UnitEntry } | null {
    const dir = dirOf(path);
    const d = this.tree.dirs.find((x) => x.path === dir);
    const entry = d?.entries.get(base(path));
    return entry ? { dir, entry } : null;
  }

  /** install_info_traverse: follow aliases and links to the unit file (a link in /etc/systemd/system or /run/systemd/system is a Loop unless followConfig). */
  traverse(name: string, followConfig = true): Found {
    let f = this.search(name);
    for (let k = 0; f.mode === "alias" || f.mode === "linked"; k++) {
      if (k > 64) throw new Loop("too many levels of symbolic links");
      if (!followConfig && CONFIG_LINK_DIRS.has(dirOf(f.path))) throw new Loop(`${f.path} is a link in a configuration directory`);
      if (f.mode === "linked") {
        // A link out of the search path is followed to its file whatever that file is called (install.c: "if linked, don't look at the target name").
        // A dangling link is "not-found", as systemctl reports it (ENOENT).
        if (f.destContent === undefined) throw new NotFound(f.dest!);
        f = f.destContent.length === 0
          ? { ...f, path: f.dest!, mode: "masked", content: null }
          : { ...f, path: f.dest!, mode: "regular", content: f.destContent };
        continue;
      }
      let bn = base(f.dest!);
      if (unitNameKind(f.name) === "instance" && unitNameKind(bn) === "template") bn = withInstance(bn, instanceOf(f.name)!);
      if (bn !== f.name) {
        try {
          f = this.search(bn);
        } catch (e) {
          if (e instanceof NotFound) throw new Bad(`alias target ${bn} not found`);
          throw e;
        }
        continue;
      }
      // Same name: load the target file itself.
      const at = this.entryAt(f.dest!);
      if (at) {
        f = { ...this.load(base(f.dest!), at.dir, at.entry), name: f.name };
        continue;
      }
      // A dangling link (foo@bar.service → foo@.service, no such file) is "not found", as systemctl reports it (ENOENT).
      if (f.to === "missing") throw new NotFound(f.dest!);
      throw new Bad(`cannot load ${f.dest} (outside the snapshot)`);
    }
    return f;
  }

  /**
   * find_symlinks_in_scope, over every search directory: a hit in
   * /etc/systemd/system is "enabled", under /run "enabled-runtime"; a hit
   * anywhere else (vendor, control, attached) only makes an instance "static"
   * (systemd: an instance linked in the search path is statically enabled),
   * and is ignored for any other name.
   */
  links(f: Found, info: InstallInfo, matchName: boolean): UnitFileState | null {
    let sameConfig = false;
    let sameRuntime = false;
    let inRuntime = false;
    let atAll = false;
    let ignoreSameName = false;
    const defaultName = info.defaultInstance !== null && unitNameKind(f.name) === "template" ? withInstance(f.name, info.defaultInstance) : null;
    // is_symlink_with_known_name: the names [Install] would create.
    const known = (n: string) => n === f.name || info.alias.includes(n) || n === defaultName;
    for (const d of this.tree.dirs) {
      let hit = false;
      let sameName = false;
      const consider = (name: string, dest: string | null, linkDir: string) => {
        // In a dependency directory a link counts by its name: its own, or its template's (an instance of a template is "of" it).
        const foundPath = (dest === null || !ignoreSameName) && name === f.name;
        const foundDest = dest !== null ? base(dest) === f.name : unitNameKind(name) === "instance" && templateOf(name) === f.name;
        if (foundPath && foundDest && `${linkDir}/${name}` === `${d.path}/${f.name}`) {
          sameName = true;
          return false;
        }
        if (!(foundPath || foundDest)) return false;
        return !matchName || known(name);
      };
      for (const l of d.deps) if (!hit && consider(l.name, null, `${d.path}/${l.dir}`)) hit = true;
      if (!hit) {
        for (const [name, e] of d.entries) {
          if (e.kind !== "link") continue;
          if (consider(name, absoluteTarget(d.path, e.target), d.path)) {
            hit = true;
            break;
          }
        }
      }
      if (hit) {
        if (d.path === CONFIG_DIR) return "enabled";
        if (isRuntime(d.path)) inRuntime = true;
        else atAll = true;
      } else if (sameName) {
        if (d.path === CONFIG_DIR) sameConfig = true;
        else if (isRuntime(d.path)) sameRuntime = true;
      }
      if (!ignoreSameName && f.path.startsWith(d.path + "/")) ignoreSameName = true;
    }
    if (inRuntime) return "enabled-runtime";
    if (atAll && unitNameKind(f.name) === "instance") return "static";
    if (sameConfig) return "linked";
    if (sameRuntime) return "linked-runtime";
    return null;
  }
}

/** A link's target made absolute against its directory (no resolution), as install.c compares destinations. */
export function absoluteTarget(dir: string, target: string): string {
  return target.startsWith("/") ? target : `${dir}/${target}`;
}

/** unit_validate_alias_symlink_or_warn: throws Bad when systemd refuses SRC → DST as an alias. */
function validateAlias(src: string, dst: string): void {
  const sk = unitNameKind(src);
  if (!sk) throw new Bad(`invalid unit name ${src}`);
  const st = unitType(src);
  if (!MAY_ALIAS.has(st)) throw new Bad(`symlinks are not allowed for ${st} units`);
  if (sk !== "plain" && !MAY_TEMPLATE.has(st)) throw new Bad(`templates not allowed for ${st} units`);
  if (src === dst) throw new Loop(`unit self-alias ${src}`);
  const dk = unitNameKind(dst);
  if (!dk) throw new Bad(`${src} points to ${dst}, not a valid unit name`);
  if (!(dk === sk || (sk === "instance" && dk === "template"))) throw new Bad(`alias ${src} → ${dst}: name types differ`);
  if (dk === "instance" && instanceOf(src) !== instanceOf(dst)) throw new Bad(`alias ${src} → ${dst}: instances differ`);
  if (unitType(dst) !== st) throw new Bad(`alias ${src} → ${dst}: unit types differ`);
}

/** Generator directories left out of the search path, as systemctl's SysV compatibility looks a unit up without them. */
const NATIVE_SEARCH_DIRS = SEARCH_DIRS.filter((d) => !GENERATOR_DIRS.has(d));
/** Where a link is configuration, not followed by unit_file_exists (install.c path_is_config). */
const CONFIG_LINK_DIRS = new Set([CONFIG_DIR, "/run/systemd/system"]);

/**
 * systemctl is-enabled|enable|disable first ask, for a .service, whether a
 * native unit exists besides a SysV script (systemctl-sysv-compat.c
 * enable_sysv_units: unit_file_exists over the search path without the
 * generator directories, config links not followed). Any error there but
 * ELOOP fails the whole command, even where the real lookup would find a
 * generated unit first: throws Bad then.
 */
function sysvPrecheck(tree: UnitTree, name: string): void {
  if (unitType(name) !== "service") return;
  const native: UnitTree = { dirs: tree.dirs.filter((d) => !GENERATOR_DIRS.has(d.path)) };
  try {
    new Lookup(native, NATIVE_SEARCH_DIRS).traverse(name, false);
  } catch (e) {
    if (e instanceof NotFound || e instanceof Loop) return;
    throw e;
  }
}

/** The state `systemctl is-enabled NAME` reports for the snapshot. */
export function unitFileState(tree: UnitTree, name: string): UnitFileState {
  return describeUnit(tree, name).state;
}

/** A unit's state and the file systemd resolved it to. */
export interface UnitDescription {
  state: UnitFileState;
  /** the unit file (or mask) systemd settled on; null when not found or bad */
  path: string | null;
  /** the unit's own name after following aliases */
  resolvedName: string | null;
  install: InstallInfo | null;
  /** why "bad" */
  detail?: string;
}

/** unit_file_lookup_state, with the path and [Install] it was decided from. */
export function describeUnit(tree: UnitTree, name: string): UnitDescription {
  const lk = new Lookup(tree);
  let f: Found;
  try {
    if (!unitNameKind(name)) return { state: "bad", path: null, resolvedName: null, install: null, detail: `invalid unit name ${name}` };
    sysvPrecheck(tree, name);
    f = lk.traverse(name);
  } catch (e) {
    if (e instanceof NotFound) return { state: "not-found", path: null, resolvedName: null, install: null };
    if (e instanceof Bad) return { state: "bad", path: null, resolvedName: null, install: null, detail: e.message };
    throw e;
  }
  if (f.mode === "masked") {
    return { state: f.path.startsWith("/run/") ? "masked-runtime" : "masked", path: f.path, resolvedName: f.name, install: null };
  }
  const install = parseInstall(f.content ?? "");
  // Alias= on a type that cannot alias (mount, swap, …) is ignored with a warning, as install.c does.
  if (!MAY_ALIAS.has(unitType(f.name))) install.alias = [];
  const done = (state: UnitFileState): UnitDescription => ({ state, path: f.path, resolvedName: base(f.path) === name ? name : f.name, install });
  if (name !== base(f.path) && unitNameKind(f.name) !== "instance") return { ...done("alias"), resolvedName: base(f.path) };
  if (GENERATOR_DIRS.has(dirOf(f.path))) return done("generated");
  if (dirOf(f.path) === "/run/systemd/transient") return done("transient");
  const en = lk.links(f, install, true);
  if (en) return done(en);
  if (lk.links(f, install, false)) return done("indirect");
  if (install.wantedBy.length || install.requiredBy.length || install.alias.length) return done("disabled");
  if (install.also.length) return done("indirect");
  return done("static");
}

/** True for the states `systemctl is-enabled` exits 0 on (systemd 252 verb_is_enabled). */
export function isEnabledState(s: UnitFileState): boolean {
  return ["enabled", "enabled-runtime", "static", "alias", "indirect", "generated"].includes(s);
}

// ---------- what systemctl enable|disable|mask|unmask would change (install.c) ----------

/** One symlink to create (→ target) or remove, as a logical path. */
export type LinkChange = { op: "create"; path: string; target: string } | { op: "remove"; path: string; target: string };

/** A plan: the link changes, or why systemctl would refuse (nothing is changed then). */
export type LinkPlan = { ok: true; changes: LinkChange[] } | { ok: false; refused: string };

const configEntry = (tree: UnitTree, name: string): UnitEntry | undefined => tree.dirs.find((d) => d.path === CONFIG_DIR)?.entries.get(name);

/** `systemctl mask NAME`: a link /etc/systemd/system/NAME → /dev/null; anything else already there is refused (systemctl needs --force). */
export function maskPlan(tree: UnitTree, name: string): LinkPlan {
  const path = `${CONFIG_DIR}/${name}`;
  const e = configEntry(tree, name);
  if (!e) return { ok: true, changes: [{ op: "create", path, target: "/dev/null" }] };
  if (e.kind === "link" && e.dest === "/dev/null") return { ok: true, changes: [] };
  const what = e.kind === "link" ? `a symlink to ${e.target}` : e.kind === "file" ? "a unit file" : "not a symlink";
  return { ok: false, refused: `${path} is already ${what}; masking would replace it (systemctl mask refuses too); nothing changed` };
}

/** `systemctl unmask NAME`: remove the /etc mask link; a mask elsewhere (/run, a vendor empty file) is named, not touched. */
export function unmaskPlan(tree: UnitTree, name: string): LinkPlan {
  const path = `${CONFIG_DIR}/${name}`;
  const e = configEntry(tree, name);
  const changes: LinkChange[] = [];
  if (e?.kind === "link" && (e.dest === "/dev/null" || e.to === "null")) changes.push({ op: "remove", path, target: e.target });
  else if (e?.kind === "file" && e.content.length === 0) return { ok: false, refused: `${path} is an empty file masking ${name}; not a link Bulwark removes; nothing changed` };
  return { ok: true, changes };
}

/** The unit file systemd resolves NAME to, with its [Install]: null when masked, missing or bad. */
function resolveForInstall(tree: UnitTree, name: string): { name: string; path: string; install: InstallInfo } | null {
  const d = describeUnit(tree, name);
  if (!d.path || !d.install || d.state === "masked" || d.state === "masked-runtime" || d.state === "bad") return null;
  const own = d.state === "alias" ? d.resolvedName! : name;
  return { name: own, path: d.path, install: d.install };
}

/**
 * `systemctl enable NAME` (persistent): for NAME (aliases followed to their
 * unit) and every Also= unit, transitively: Alias= links in /etc/systemd/system
 * (an instance's template alias instantiated; an alias systemd would reject
 * refuses the plan), WantedBy=/RequiredBy= links in TARGET.wants|.requires
 * (a template by its DefaultInstance; without one, only a template or
 * instance TARGET gets the template itself), each → the unit file. An
 * existing dependency link elsewhere is replaced (systemctl forces those); an
 * alias name held by something else is refused; so is a generated or
 * transient unit.
 */
export function enablePlan(tree: UnitTree, name: string): LinkPlan {
  const d = describeUnit(tree, name);
  if (d.state === "masked" || d.state === "masked-runtime") return { ok: false, refused: `${name} is masked by ${d.path}; unmask it first; nothing changed` };
  if (d.state === "not-found") return { ok: false, refused: `no unit file ${name} in the unit search path; nothing changed` };
  if (d.state === "bad") return { ok: false, refused: `systemd cannot load ${name}: ${d.detail}; nothing changed` };
  if (d.state === "generated" || d.state === "transient") return { ok: false, refused: `${name} is ${d.state} (${d.path}); systemctl enable refuses it; nothing changed` };
  const changes: LinkChange[] = [];
  const seen = new Set<string>();
  const queue = [name];
  const links = tree.dirs.find((x) => x.path === CONFIG_DIR);
  const existing = (path: string): UnitEntry | DepLink | undefined => {
    const rel = path.slice(CONFIG_DIR.length + 1);
    const slash = rel.indexOf("/");
    if (slash < 0) return links?.entries.get(rel);
    return links?.deps.find((l) => l.dir === rel.slice(0, slash) && l.name === rel.slice(slash + 1));
  };
  while (queue.length) {
    const u = queue.shift()!;
    if (seen.has(u)) continue;
    seen.add(u);
    const r = resolveForInstall(tree, u);
    if (!r) continue; // an Also= unit that is missing or masked is skipped, as systemctl does
    const kind = unitNameKind(r.name);
    const linkName = kind === "template" ? (r.install.defaultInstance ? withInstance(r.name, r.install.defaultInstance) : null) : r.name;
    const want = (path: string, force: boolean): string | null => {
      // Listed twice (WantedBy=x x, or by an Also= unit): one link.
      if (changes.some((c) => c.op === "create" && c.path === path)) return null;
      const e = existing(path);
      if (!e) return (changes.push({ op: "create", path, target: r.path }), null);
      const target = "target" in e ? e.target : null;
      if (target === r.path) return null;
      if (!force || target === null) return `${path} already exists${target ? ` (a symlink to ${target})` : ""}`;
      changes.push({ op: "remove", path, target }, { op: "create", path, target: r.path });
      return null;
    };
    // A linked unit (its file outside the search path) first gets its own link in /etc (install_info_symlink_link).
    if (!SEARCH_DIRS.includes(dirOf(r.path) as (typeof SEARCH_DIRS)[number])) {
      const why = want(`${CONFIG_DIR}/${r.name}`, false);
      if (why) return { ok: false, refused: `cannot link ${r.name}: ${why}; nothing changed` };
    }
    if (MAY_ALIAS.has(unitType(r.name))) {
      for (const written of r.install.alias) {
        if (!unitNameKind(written)) continue;
        // An instance's template alias is instantiated with its instance (Alias=al@.service makes al@bar.service for foo@bar.service).
        const a = kind === "instance" && unitNameKind(written) === "template" ? withInstance(written, instanceOf(r.name)!) : written;
        try {
          validateAlias(a, r.name);
        } catch (e) {
          if (e instanceof Loop) continue; // a self-alias is skipped quietly
          if (e instanceof Bad) return { ok: false, refused: `cannot alias ${r.name} as ${a} (${e.message}), as systemctl enable refuses; nothing changed` };
          throw e;
        }
        const why = want(`${CONFIG_DIR}/${a}`, false);
        if (why) return { ok: false, refused: `cannot create alias ${a} of ${r.name}: ${why}; nothing changed` };
      }
    }
    {
      for (const [list, suffix] of [[r.install.wantedBy, "wants"], [r.install.requiredBy, "requires"]] as const) {
        for (const t of list) {
          // A template without DefaultInstance= is only wanted by templates and instances (by its template name); systemctl warns about the rest and goes on.
          if (!unitNameKind(t) || (!linkName && unitNameKind(t) === "plain")) continue;
          const why = want(`${CONFIG_DIR}/${t}.${suffix}/${linkName ?? r.name}`, true);
          if (why) return { ok: false, refused: `cannot enable ${r.name}: ${why}; nothing changed` };
        }
      }
    }
    queue.push(...r.install.also);
  }
  return { ok: true, changes };
}

/**
 * `systemctl disable NAME` (persistent): every symlink under /etc/systemd/system
 * (top level and .wants/.requires) named like NAME, its unit, an Also= unit or
 * an alias removed on the way, or pointing to a file of such a name. A masked
 * unit is left alone (systemctl: "is masked, ignoring"), its mask included.
 */
export function disablePlan(tree: UnitTree, name: string): LinkPlan {
  const d = describeUnit(tree, name);
  if (d.state === "masked" || d.state === "masked-runtime") return { ok: true, changes: [] };
  if (d.state === "bad") return { ok: false, refused: `systemd cannot load ${name}: ${d.detail}; systemctl disable fails too; nothing changed` };
  const names = new Set<string>([name]);
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length) {
    const u = queue.shift()!;
    if (seen.has(u)) continue;
    seen.add(u);
    names.add(u);
    const r = resolveForInstall(tree, u);
    if (!r) continue;
    names.add(r.name);
    queue.push(...r.install.also);
  }
  const cfg = tree.dirs.find((x) => x.path === CONFIG_DIR);
  if (!cfg) return { ok: true, changes: [] };
  const all: { path: string; name: string; target: string }[] = [
    ...[...cfg.entries].flatMap(([n, e]) => (e.kind === "link" ? [{ path: `${CONFIG_DIR}/${n}`, name: n, target: e.target }] : [])),
    ...cfg.deps.map((l) => ({ path: `${CONFIG_DIR}/${l.dir}/${l.name}`, name: l.name, target: l.target })),
  ];
  const removed = new Set<string>();
  for (let again = true; again; ) {
    again = false;
    for (const l of all) {
      if (removed.has(l.path) || !unitNameKind(l.name)) continue;
      const dest = absoluteTarget(dirOf(l.path), l.target);
      const isMask = dest === "/dev/null";
      // An instance of a template being disabled goes, whatever it points to (systemd 252 matches the link's template name).
      const ofTemplate = unitNameKind(l.name) === "instance" && names.has(templateOf(l.name));
      if (isMask && !ofTemplate) continue;
      if (ofTemplate || names.has(l.name) || names.has(base(dest)) || names.has(dest)) {
        removed.add(l.path);
        // A removed alias's own name now marks links to it, too (install.c restarts its scan).
        if (!names.has(l.path)) (names.add(l.path), (again = true));
      }
    }
  }
  return { ok: true, changes: all.filter((l) => removed.has(l.path)).map((l) => ({ op: "remove" as const, path: l.path, target: l.target })) };
}
