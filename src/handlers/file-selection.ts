/**
 * Which objects a file_permissions step acts on, read through the Host:
 * one named path, a shell glob in its last component (`ssh_host_*_key`, as
 * sh expands it: a leading dot only by a literal dot), or find-style
 * selections (`find_paths` + `find_type` + `find_args`/`find_name`), judged
 * by config/find-select.ts, the code GNU find holds to account in tests.
 *
 * Never followed: a symlink is not selected by a walk, and a named path or
 * glob match that is a symlink is returned as refused. Never crossed: walks
 * stay on the start directory's file system (stricter than find without
 * -xdev, which would descend into any mount).
 */
import type { Host, PathStat } from "../host/host.ts";
import { fnmatch, isGlob } from "../config/fnmatch.ts";
import { selects } from "../config/find-select.ts";
import type { FindArgs } from "../params/find-expr.ts";
import { trimSlash } from "../params/file-validators.ts";
import { resolveIn, type ImageAccounts } from "../checks/accounts.ts";

/** Deepest walk when find_args gives no -maxdepth (far below PATH_MAX's nesting, far above any real tree). */
const DEFAULT_MAX_DEPTH = 1024;

export interface Selected {
  path: string;
  stat: PathStat;
}

export interface Selection {
  found: Selected[];
  /** Named paths that do not exist. */
  missing: string[];
  /** Objects the step will not touch, with why (a symlink, a device, a name no Host can address). */
  refused: { path: string; reason: string }[];
}

/** What a step selects: a named path (glob allowed in its last component), or find-style starts. */
export type Target =
  | { kind: "path"; path: string }
  | { kind: "find"; starts: string[]; type?: "file" | "dir"; args: FindArgs };

const baseName = (p: string): string => (p === "/" ? "/" : p.slice(p.lastIndexOf("/") + 1));
const parentOf = (p: string): string => p.slice(0, p.lastIndexOf("/")) || "/";

function judge(sel: Selection, path: string, st: PathStat | null): void {
  if (st === null) sel.missing.push(path);
  else if (st.type === "symlink") sel.refused.push({ path, reason: "is a symlink (never followed)" });
  else if (st.type === "other") sel.refused.push({ path, reason: "is not a regular file or directory" });
  else sel.found.push({ path, stat: st });
}

/** Gather the selection of T through HOST. Names resolve against ACCOUNTS (the image's). */
export async function select(host: Host, t: Target, accounts: ImageAccounts): Promise<Selection> {
  const sel: Selection = { found: [], missing: [], refused: [] };
  if (t.kind === "path") {
    const name = baseName(t.path);
    if (!isGlob(name)) {
      judge(sel, t.path, await host.statPath(t.path));
      return sel;
    }
    const dir = parentOf(t.path);
    const entries = (await host.listDir(dir)) ?? [];
    for (const e of entries) {
      if (!fnmatch(name, e.name, { period: true })) continue;
      const p = (dir === "/" ? "" : dir) + "/" + e.name;
      if (e.name.includes("\n")) sel.refused.push({ path: p, reason: "has a newline in its name" });
      else judge(sel, p, await host.statPath(p));
    }
    return sel;
  }
  const resolve = (kind: "user" | "group", n: string) => resolveIn(accounts, kind, n);
  const seen = new Set<string>();
  for (const raw of t.starts) {
    const start = trimSlash(raw);
    // find -P does not follow a start that is a symlink (merged-usr /lib -> usr/lib): it selects nothing there.
    if ((await host.statPath(start))?.type === "symlink") continue;
    const walked = await host.walk(start, { maxDepth: t.args.maxDepth ?? DEFAULT_MAX_DEPTH, type: t.type, xdev: true });
    for (const e of walked ?? []) {
      const name = e.depth === 0 ? baseName(start) : baseName(e.path);
      if (e.stat.type === "symlink" || e.stat.type === "other") continue; // find_type f/d never selects these
      if (!selects(t.args, { name, depth: e.depth, ...e.stat }, resolve)) continue;
      if (e.path.includes("\n")) sel.refused.push({ path: e.path, reason: "has a newline in its name" });
      else if (!seen.has(e.path)) {
        seen.add(e.path);
        sel.found.push({ path: e.path, stat: e.stat });
      }
    }
  }
  return sel;
}
