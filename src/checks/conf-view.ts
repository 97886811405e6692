/**
 * Key-scoped gathers: only the configuration files that can decide one key
 * (a sysctl, a module), so a run of N rules does not parse and merge all N
 * drop-ins for every rule (issue 14.1: that made a run quadratic).
 *
 * Why the answer is the same as over every file: each evaluator question a
 * check or handler asks (config/sysctl.ts effectiveSysctl,
 * config/systemd-sysctl.ts effectiveSystemdSysctl, config/modprobe.ts
 * moduleConfig) looks only at lines that name the key — exactly, or by a
 * pattern — in reading order. So the view keeps, per directory: every file
 * whose lines name the key in any form the evaluators compare, every file
 * with a pattern line, every non-plain entry (symlinks: resolved again each
 * time), and every file that masks one of those by name (an earlier
 * directory's same-named file is read instead, whatever it holds). The
 * evaluators then run unchanged on that subset. config/ stays pure: the memo
 * lives here.
 *
 * The memo: per directory, each plain file's text and the keys it names,
 * indexed by key. It is refreshed only when the Host hands back a different
 * listing array, and within it only the names whose DirEntry object
 * changed — the run cache (host/cached-host.ts) gives a name a new object
 * whenever what is cached under it changes. A Host without that cache lists
 * fresh objects every time, so everything is read again, as before.
 */
import type { DirEntry, Host } from "../host/host.ts";
import { editedNames, findEntry } from "../host/listing-edit.ts";
import { kernelModuleName } from "../params/module-name.ts";
import { type ConfDir, type ConfFile, evaluateModprobe, isModprobeConfName } from "../config/modprobe.ts";
import { isSysctlConfName, parseSysctlFile, SYSCTL_CONF, SYSCTL_DIRS, sysctlPath } from "../config/sysctl.ts";
import { parseSystemdSysctlFile, systemdSysctlNormalize } from "../config/systemd-sysctl.ts";
import { contentOf, entryContent, gatherFile, kmodDirsOf, resolveLogical } from "./fs-gather.ts";
import type { SysctlFiles } from "./sysctl-boot.ts";

/** What one file's lines name: the keys, as the evaluators compare them, and whether a pattern could name any key. */
export interface Mentions {
  keys: readonly string[];
  any: boolean;
}

/** A configuration format as the gather sees it: which names count, and what a file's text names. */
export interface ConfFormat {
  readonly accept: (name: string) => boolean;
  readonly mentions: (content: string) => Mentions;
}

/** sysctl.d for both boot loaders: procps paths and systemd-sysctl's normalised keys, globs for any key. */
export const SYSCTL_FORMAT: ConfFormat = {
  accept: isSysctlConfName,
  mentions(content) {
    const procps = parseSysctlFile("", content).entries;
    const systemd = parseSystemdSysctlFile("", content);
    return {
      keys: [...new Set([...procps.map((e) => e.path), ...systemd.map((l) => l.path)])],
      any: procps.some((e) => e.glob) || systemd.some((l) => l.glob),
    };
  },
};

/** modprobe.d: the module each install/blacklist/options line names; an install pattern (fnmatch: * ? [ \) names any. */
export const MODPROBE_FORMAT: ConfFormat = {
  accept: isModprobeConfName,
  mentions(content) {
    const cfg = evaluateModprobe([{ path: "/", files: [{ name: "x.conf", content }] }]);
    return {
      keys: [...new Set([...cfg.installs, ...cfg.blacklists, ...cfg.options].map((l) => l.module))],
      any: cfg.installs.some((i) => /[*?[\\]/.test(i.module)),
    };
  },
};

interface Known {
  entry: DirEntry;
  content: string;
  mentions: Mentions;
}

/** The memo of one directory under one format. */
interface DirView {
  listing: DirEntry[] | null;
  files: Map<string, Known>;
  byKey: Map<string, Set<string>>;
  any: Set<string>;
  /** Accepted entries that are not plain files: read (through the Host) on every gather. */
  odd: DirEntry[];
}

/** Views per format, by "root\0real directory"; bounded so a long test process does not keep every temp root. */
const memo = new WeakMap<ConfFormat, Map<string, DirView>>();
const MAX_VIEWS = 256;

function viewOf(host: Host, format: ConfFormat, real: string): DirView {
  let views = memo.get(format);
  if (!views) memo.set(format, (views = new Map()));
  const key = `${host.root}\0${real}`;
  let v = views.get(key);
  if (!v) {
    if (views.size >= MAX_VIEWS) views.clear();
    views.set(key, (v = { listing: null, files: new Map(), byKey: new Map(), any: new Set(), odd: [] }));
  }
  return v;
}

function unindex(v: DirView, name: string): void {
  const k = v.files.get(name);
  if (!k) return;
  for (const key of k.mentions.keys) v.byKey.get(key)?.delete(name);
  v.any.delete(name);
  v.files.delete(name);
}

function index(v: DirView, name: string, known: Known): void {
  unindex(v, name);
  v.files.set(name, known);
  for (const key of known.mentions.keys) {
    let set = v.byKey.get(key);
    if (!set) v.byKey.set(key, (set = new Set()));
    set.add(name);
  }
  if (known.mentions.any) v.any.add(name);
}

/**
 * Bring V up to LISTING when the run cache made LISTING from V's by a few
 * edits of plain files (host/listing-edit.ts): only those names are looked
 * at, so a run's own write costs O(1) here, not a walk of the directory.
 * False when that does not apply (a fresh listing, a link or other entry
 * involved): the caller compares every entry.
 */
async function refreshEdited(host: Host, format: ConfFormat, real: string, v: DirView, listing: DirEntry[]): Promise<boolean> {
  if (v.listing === null) return false;
  const names = editedNames(listing, v.listing);
  if (!names) return false;
  const entries = [...new Set(names)].map((name) => ({ name, e: findEntry(listing, name) }));
  const plain = ({ name, e }: { name: string; e: DirEntry | undefined }) => (e === undefined || e.type === "file") && !v.odd.some((o) => o.name === name);
  if (!entries.every(plain)) return false;
  const fresh = entries.filter(({ name, e }) => e !== undefined && format.accept(name) && v.files.get(name)?.entry !== e).map(({ e }) => e!);
  const states = await host.readFiles(fresh.map((e) => `${real}/${e.name}`));
  for (const { name, e } of entries) if (e === undefined) unindex(v, name);
  fresh.forEach((e, i) => {
    const content = contentOf(states[i]!);
    index(v, e.name, { entry: e, content, mentions: format.mentions(content) });
  });
  v.listing = listing;
  return true;
}

/** Bring V up to LISTING: read only the plain files whose DirEntry object is new. */
async function refresh(host: Host, format: ConfFormat, real: string, v: DirView, listing: DirEntry[] | null): Promise<void> {
  if (listing !== null && v.listing === listing) return;
  if (listing !== null && (await refreshEdited(host, format, real, v, listing))) return;
  const present = new Set<string>();
  const fresh: DirEntry[] = [];
  const odd: DirEntry[] = [];
  for (const e of listing ?? []) {
    if (!format.accept(e.name)) continue;
    if (e.type === "file") {
      present.add(e.name);
      if (v.files.get(e.name)?.entry !== e) fresh.push(e);
    } else if (e.type !== "dir") odd.push(e);
  }
  // Plain files in one batch (one round trip on the shell path), as gatherDirs reads them.
  const states = await host.readFiles(fresh.map((e) => `${real}/${e.name}`));
  for (const name of [...v.files.keys()]) if (!present.has(name)) unindex(v, name);
  fresh.forEach((e, i) => {
    const content = contentOf(states[i]!);
    index(v, e.name, { entry: e, content, mentions: format.mentions(content) });
  });
  v.odd = odd;
  v.listing = listing;
}

/**
 * Read directories (logical paths, precedence order) like gatherDirs, but
 * only the files that can decide KEYS (the forms the evaluators compare)
 * and the files that mask them. Every directory is in the result, maybe
 * empty, so a caller can add its own drop-in to it.
 */
export async function gatherDirsFor(host: Host, dirs: readonly string[], format: ConfFormat, keys: readonly string[]): Promise<ConfDir[]> {
  const views: { dir: string; real: string; v: DirView; odd: Map<string, string> }[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const real = await resolveLogical(host, dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const v = viewOf(host, format, real);
    await refresh(host, format, real, v, await host.listDir(real));
    const odd = new Map<string, string>();
    for (const e of v.odd) {
      const content = await entryContent(host, real, e);
      if (content !== null) odd.set(e.name, content);
    }
    views.push({ dir, real, v, odd });
  }
  const picked = views.map(({ v, odd }) => {
    const names = new Set<string>([...v.any, ...odd.keys()]);
    for (const k of keys) for (const n of v.byKey.get(k) ?? []) names.add(n);
    return names;
  });
  // A file an earlier directory masks by name is replaced by that one: keep the masker too.
  for (let i = 1; i < views.length; i++) {
    for (const name of picked[i]!) {
      for (let j = 0; j < i; j++) if (views[j]!.v.files.has(name) || views[j]!.odd.has(name)) picked[j]!.add(name);
    }
  }
  return views.map(({ dir, v, odd }, i) => ({
    path: dir,
    files: [...picked[i]!].map((name): ConfFile => ({ name, content: odd.get(name) ?? v.files.get(name)!.content })),
  }));
}

/** The sysctl files that can decide KEY for procps and systemd-sysctl (dirs as gatherDirsFor, /etc/sysctl.conf always). */
export async function gatherSysctlFor(host: Host, key: string): Promise<SysctlFiles> {
  const keys = [...new Set([sysctlPath(key), systemdSysctlNormalize(key)])];
  return { dirs: await gatherDirsFor(host, SYSCTL_DIRS, SYSCTL_FORMAT, keys), conf: await gatherFile(host, SYSCTL_CONF) };
}

/** The modprobe.d files kmod reads here (fs-gather.ts kmodDirsOf) that can decide anything about MODULE (either spelling). */
export async function gatherModprobeFor(host: Host, module: string): Promise<ConfDir[]> {
  return gatherDirsFor(host, await kmodDirsOf(host), MODPROBE_FORMAT, [kernelModuleName(module)]);
}
