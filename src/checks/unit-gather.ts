/**
 * Reading the unit search path through the Host into the snapshot that
 * config/systemd-units.ts judges: every search directory (a merged-/usr
 * /lib/systemd/system read through its link, inside the root), its unit
 * files' bytes, its symlinks with their targets resolved inside the root,
 * and the links in the *.wants/*.requires directories of every search
 * directory.
 */
import type { Host } from "../host/host.ts";
import { HostIoError } from "../host/host.ts";
import { CachedHost } from "../host/cached-host.ts";
import {
  absoluteTarget, SEARCH_DIRS, unitNameKind,
  type DepLink, type LinkDest, type SearchDir, type UnitEntry, type UnitTree,
} from "../config/systemd-units.ts";
import { gatherFile, latin1, resolveLogical } from "./fs-gather.ts";
import { perRunSnapshot } from "./run-snapshot.ts";

/** systemd 252 counts links in these dependency directories (not .upholds: 252 has no UpheldBy= in [Install]). */
const DEP_DIR = /\.(wants|requires)$/;

const dirOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf("/"), 0)) || "/";
const baseOf = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
/** "/a/b/c" → ["/a", "/a/b", "/a/b/c"]: the paths resolveLogical asks readLink for, in order. */
const prefixesOf = (p: string): string[] => p.split("/").filter(Boolean).map((_, i, a) => "/" + a.slice(0, i + 1).join("/"));

/**
 * The Host, with readLink remembered for one gather: resolving every link
 * walks the same few directories (/etc, /usr/lib, /lib …) again and again,
 * one round trip each on the shell path.
 */
function memoLinks(host: Host): Host {
  const links = new Map<string, Promise<string | null>>();
  return new Proxy(host, {
    get(t, k, r) {
      if (k !== "readLink") return Reflect.get(t, k, r);
      return (p: string) => {
        let hit = links.get(p);
        if (!hit) links.set(p, (hit = t.readLink(p)));
        return hit;
      };
    },
  });
}

/** Resolve a link's directories inside the root, the final component not followed (systemd's CHASE_NOFOLLOW). */
async function chaseDest(host: Host, abs: string): Promise<string> {
  const dir = await resolveLogical(host, dirOf(abs));
  return (dir === "/" ? "" : dir) + "/" + baseOf(abs);
}

/** What a link's target finally is: a mask (/dev/null, empty file, device), a file, nothing, or not a unit file. */
async function destKind(host: Host, dest: string, known: Map<string, string>): Promise<LinkDest> {
  if (dest === "/dev/null") return "null";
  let full: string;
  try {
    full = await resolveLogical(host, dest);
  } catch (e) {
    if (e instanceof HostIoError && e.code === "ELOOP") return "missing";
    throw e;
  }
  if (full === "/dev/null") return "null";
  // A plain file of a search directory already read: no further round trip.
  const seen = known.get(full);
  if (seen !== undefined) return seen.length === 0 ? "null" : "file";
  const st = await host.statPath(full).catch((e) => {
    if (e instanceof HostIoError && e.code === "ENOTDIR") return null;
    throw e;
  });
  if (!st) return "missing";
  if (st.type === "dir") return "other";
  // systemd masks a device (null_or_empty) but refuses a FIFO or socket; an old Host without `special` keeps the mask.
  if (st.type === "other") return st.special === "fifo" || st.special === "socket" ? "other" : "null";
  const f = await host.readFile(full);
  return f.exists && f.bytes.length === 0 ? "null" : "file";
}

/**
 * The snapshot of every unit search directory as the Host sees it now. Through
 * a run cache, one snapshot serves every caller until anything changes through
 * that cache or it revalidates (run-snapshot.ts): a check of thirty service
 * rules read the whole search path thirty times (performance/AC-18).
 */
export const gatherUnitTree: (host: Host) => Promise<UnitTree> = perRunSnapshot("unit-tree", (host) => readUnitTree(host));

async function readUnitTree(outer: Host): Promise<UnitTree> {
  // Outside a run cache (a rollback's capture and verification take the plain Host) a cache of
  // this gather's own: one point in time, read once, and on the shell path a script per
  // directory instead of one per link.
  const host = memoLinks(outer.prefetchLinks ? outer : new CachedHost(outer));
  const dirs: SearchDir[] = [];
  const known = new Map<string, string>();
  const pending: { entries: Map<string, UnitEntry>; logical: string; real: string; name: string }[] = [];
  // One listing per parent (/etc/systemd, /run/systemd, …) says which search directories exist:
  // most of the thirteen do not, and each absent one would cost round trips on the shell path.
  const parents = new Map<string, Promise<{ real: string; names: Map<string, string> } | null>>();
  const parentOf = (logical: string) => {
    const dir = dirOf(logical);
    let hit = parents.get(dir);
    if (!hit) {
      hit = (async () => {
        const real = await resolveLogical(host, dir);
        const l = await host.listDir(real).catch((e) => {
          if (e instanceof HostIoError && e.code === "ENOTDIR") return null;
          throw e;
        });
        return l ? { real, names: new Map(l.map((e) => [e.name, e.type])) } : null;
      })();
      parents.set(dir, hit);
    }
    return hit;
  };
  // Every directory on the way to a search directory's parent, and /dev (a mask's /dev/null is
  // chased too), in one batch: resolving each parent alone was one round trip per parent.
  await host.prefetchLinks?.([...new Set([...SEARCH_DIRS.map(dirOf), "/dev/null"].flatMap(prefixesOf))]);
  for (const logical of SEARCH_DIRS) {
    const parent = await parentOf(logical);
    const type = parent?.names.get(baseOf(logical));
    if (type !== "dir" && type !== "symlink") continue;
    const real = type === "dir" ? `${parent!.real}/${baseOf(logical)}` : await resolveLogical(host, logical);
    const listing = await host.listDir(real).catch((e) => {
      if (e instanceof HostIoError && e.code === "ENOTDIR") return null;
      throw e;
    });
    if (!listing) continue;
    const entries = new Map<string, UnitEntry>();
    const deps: DepLink[] = [];
    const depDirs: { name: string; links: string[] }[] = [];
    const files = listing.filter((e) => e.type === "file" && unitNameKind(e.name));
    const states = await host.readFiles(files.map((e) => `${real}/${e.name}`));
    files.forEach((e, i) => {
      const s = states[i]!;
      if (!s.exists) return;
      const content = latin1(s.bytes);
      entries.set(e.name, { kind: "file", content });
      known.set(`${real}/${e.name}`, content);
    });
    for (const e of listing) {
      if (e.type === "symlink" && unitNameKind(e.name)) {
        pending.push({ entries, logical, real, name: e.name });
        entries.set(e.name, { kind: "other" }); // placeholder, keeps listing order; replaced below
      } else if (e.type === "dir") {
        if (unitNameKind(e.name)) entries.set(e.name, { kind: "dir" });
        // Every search directory's: a vendor .wants link makes an instance "static".
        if (!DEP_DIR.test(e.name)) continue;
        const depLinks = ((await host.listDir(`${real}/${e.name}`)) ?? []).filter((l) => l.type === "symlink");
        depDirs.push({ name: e.name, links: depLinks.map((l) => l.name) });
      } else if (e.type === "other" && unitNameKind(e.name)) {
        // lstat only (never opened): a device is a mask to systemd, a FIFO or socket is not a unit file.
        const st = await host.statPath(`${real}/${e.name}`);
        const what = st?.special;
        entries.set(e.name, what === "fifo" || what === "socket" ? { kind: "special", what } : { kind: "other" });
      }
    }
    // The links of every dependency directory here in one batch (one round trip on the shell path, not one per directory).
    await host.prefetchLinks?.(depDirs.flatMap((d) => d.links.map((l) => `${real}/${d.name}/${l}`)));
    for (const d of depDirs) {
      for (const name of d.links) {
        const target = await host.readLink(`${real}/${d.name}/${name}`);
        if (target !== null) deps.push({ dir: d.name, name, target });
      }
    }
    dirs.push({ path: logical, entries, deps });
  }
  // Links last: a target in a search directory is judged from the files read above.
  await host.prefetchLinks?.(pending.map((p) => `${p.real}/${p.name}`));
  for (const { entries, logical, real, name } of pending) {
    const target = await host.readLink(`${real}/${name}`);
    if (target === null) {
      entries.delete(name);
      continue;
    }
    const dest = await chaseDest(host, absoluteTarget(logical, target));
    const to = await destKind(host, dest, known);
    const outside = !SEARCH_DIRS.some((d) => dest.startsWith(d + "/"));
    // A linked unit's [Install] lives in its file outside the search path: read it.
    const content = outside && to === "file" ? await gatherFile(host, dest) : null;
    entries.set(name, content === null ? { kind: "link", target, dest, to } : { kind: "link", target, dest, to, content });
  }
  return { dirs };
}
