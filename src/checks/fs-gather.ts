/**
 * Read configuration directories through a Host into the pure evaluators'
 * input. A missing directory is empty.
 *
 * Symlinks: the Host refuses symlinked path components, but real systems have
 * them where it matters here — merged-usr Debian has `/lib -> usr/lib`, and
 * `/etc/modprobe.d/x.conf -> /dev/null` is the standard way to mask a vendor
 * file. So every path is resolved first, one component at a time with
 * readLink, inside the root (an absolute target is taken relative to the
 * root, `..` stops at the root). Then:
 * - a directory whose resolved path was already read (earlier in precedence
 *   order) is skipped: every name in it is masked by the same name in the
 *   earlier one, so skipping it is exact, not an approximation;
 * - a file symlink to `/dev/null` is an empty file (it still masks), a
 *   dangling one or a loop too (kmod and procps fail to open it but keep its
 *   name); a symlink to a directory is not a configuration file.
 * - any OTHER failure to read a link's target (EIO, EACCES on a root-squashed
 *   NFS share) is thrown with its cause: reading it as empty would silently
 *   drop the file's directives and could turn a check's verdict around.
 */
import { type DirEntry, type FileState, type Host, HostIoError } from "../host/host.ts";
import { type ConfDir, type ConfFile, isModprobeConfName, kmodDirsFor } from "../config/modprobe.ts";

/**
 * Every modprobe.d directory a distribution may have: the handlers' footprint.
 * kmod itself reads fewer (see gatherModprobe).
 */
export const MODPROBE_DIRS = [
  "/etc/modprobe.d",
  "/run/modprobe.d",
  "/usr/local/lib/modprobe.d",
  "/usr/lib/modprobe.d",
  "/lib/modprobe.d",
] as const;

/** More symlinks than this while resolving one path is a loop (Linux's limit is 40). */
const MAX_LINKS = 40;

function joinLogical(parts: readonly string[]): string {
  return "/" + parts.join("/");
}

/**
 * Tell HOST the links the loop below will ask for next — DONE extended by
 * each of PENDING's components up to the first ".." — so a Host where each
 * readLink is a round trip (the shell path's cache) reads them in one.
 */
async function prefetchPrefixes(host: Host, done: readonly string[], pending: readonly string[]): Promise<void> {
  if (!host.prefetchLinks) return;
  const next: string[] = [];
  const acc = [...done];
  for (const c of pending) {
    if (c === "..") break;
    acc.push(c);
    next.push(joinLogical(acc));
  }
  await host.prefetchLinks(next);
}

/** Resolutions per Host, kept while its linkEpoch is unchanged: every rule of a run resolves the same few directories. */
const resolved = new WeakMap<Host, { epoch: number; paths: Map<string, string> }>();

/**
 * Resolve every symlink in a logical path, staying inside the root. A Host
 * with a linkEpoch answers a path again from memory while the epoch holds:
 * the readLink calls would give the same answers, so the same result.
 */
export async function resolveLogical(host: Host, path: string): Promise<string> {
  const epoch = host.linkEpoch;
  if (epoch === undefined) return resolveLinks(host, path);
  const memo = resolved.get(host);
  const hit = memo?.epoch === epoch ? memo.paths.get(path) : undefined;
  if (hit !== undefined) return hit;
  const real = await resolveLinks(host, path);
  // A drop while this resolution ran may have changed an answer it used: keep nothing then.
  if (host.linkEpoch === epoch) {
    let m = resolved.get(host);
    if (m?.epoch !== epoch) resolved.set(host, (m = { epoch, paths: new Map() }));
    m.paths.set(path, real);
  }
  return real;
}

async function resolveLinks(host: Host, path: string): Promise<string> {
  let pending = path.split("/").filter((p) => p !== "" && p !== ".");
  const done: string[] = [];
  let links = 0;
  await prefetchPrefixes(host, done, pending);
  while (pending.length > 0) {
    const head = pending.shift()!;
    if (head === "..") {
      done.pop();
      continue;
    }
    const candidate = joinLogical([...done, head]);
    const target = await host.readLink(candidate);
    if (target === null) {
      done.push(head);
      continue;
    }
    if (++links > MAX_LINKS) throw new HostIoError("resolve", path, "ELOOP", "too many levels of symbolic links");
    const tparts = target.split("/").filter((p) => p !== "" && p !== ".");
    if (target.startsWith("/")) done.length = 0;
    pending = [...tparts, ...pending];
    await prefetchPrefixes(host, done, pending);
  }
  return joinLogical(done);
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/**
 * Decode bytes one char per byte, so the evaluators see exactly the bytes kmod and procps see.
 * Read straight from the typed array, never through `bytes.buffer`: asking a small typed array
 * (kernelio/open-regular.ts reads files into ones held in the GC heap) for its buffer makes JSC
 * move its bytes to a native ArrayBuffer of their own, kept as long as the array. The run cache
 * keeps one array per file it read, so that was one more native allocation per rule for the
 * whole run, scattered among the rule's garbage (issue 14: RSS at 5,000 rules).
 */
export function latin1(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.byteLength);
}

/** A file's text as the evaluators read it; an absent one (removed since the listing) is empty. */
export const contentOf = (st: FileState): string => (st.exists ? latin1(st.bytes) : "");

/** Read one file by logical path, following symlinks inside the root. Null when absent or not a regular file. */
export async function gatherFile(host: Host, path: string): Promise<string | null> {
  const real = await resolveLogical(host, path);
  if (real === "/dev/null") return "";
  const st = await host.readFile(real);
  return st.exists ? latin1(st.bytes) : null;
}

/** Content of a non-plain directory entry (symlink, device…), or null when it is not a configuration file at all. */
export async function entryContent(host: Host, dir: string, e: DirEntry): Promise<string | null> {
  if (e.type === "dir") return null;
  if (e.type === "other") return "";
  const p = `${dir}/${e.name}`;
  let real: string;
  try {
    real = await resolveLogical(host, p);
  } catch (err) {
    if (hasCode(err, "ELOOP")) return "";
    throw err;
  }
  if (real === "/dev/null") return "";
  const listing = await host.listDir(real).catch((err) => {
    if (hasCode(err, "ENOTDIR")) return null;
    throw err;
  });
  if (listing !== null) return null;
  try {
    const st = await host.readFile(real);
    return st.exists ? latin1(st.bytes) : "";
  } catch (err) {
    // Gone since the listing, a loop, or (EISDIR) a FIFO/device target: like a non-symlink
    // "other" entry, it still masks by name and holds no directives. Anything else is a real error.
    if (hasCode(err, "ENOENT", "ELOOP", "EISDIR")) return "";
    throw err;
  }
}

/** True when `err` is a Host I/O error with one of `codes` (errno names). */
function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof HostIoError && codes.includes(err.code);
}

/**
 * Read directories (logical paths, precedence order). `accept` filters names
 * before any read, so unrelated files are never opened. Directories keep
 * their logical path, which is what kmod and procps name in messages.
 */
export async function gatherDirs(
  host: Host,
  dirs: readonly string[],
  accept: (name: string) => boolean,
): Promise<ConfDir[]> {
  const out: ConfDir[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const real = await resolveLogical(host, dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const entries = (await host.listDir(real) ?? []).filter((e) => accept(e.name));
    // Plain files are read in one batch (one round trip on the shell path); links need resolving first.
    const plain = entries.filter((e) => e.type === "file");
    const states = await host.readFiles(plain.map((e) => `${real}/${e.name}`));
    const plainContent = new Map(plain.map((e, i) => [e.name, contentOf(states[i]!)]));
    const files: ConfFile[] = [];
    for (const e of entries) {
      const content = plainContent.get(e.name) ?? (await entryContent(host, real, e));
      if (content !== null) files.push({ name: e.name, content });
    }
    out.push({ path: dir, files });
  }
  return out;
}

/**
 * The modprobe.d files kmod reads on this host or image: kmod's compiled-in
 * directory list for the release /etc/os-release (else /usr/lib/os-release)
 * names (config/modprobe.ts kmodDirsFor), so a split-/usr /usr/lib/modprobe.d
 * that kmod never reads cannot make a module look disabled.
 */
export async function gatherModprobe(host: Host): Promise<ConfDir[]> {
  return gatherDirs(host, await kmodDirsOf(host), isModprobeConfName);
}

/** The modprobe.d directories kmod reads here, by the release the image names (config/modprobe.ts kmodDirsFor). */
export async function kmodDirsOf(host: Host): Promise<readonly string[]> {
  const osRelease = (await gatherFile(host, "/etc/os-release")) ?? (await gatherFile(host, "/usr/lib/os-release"));
  return kmodDirsFor(osRelease);
}
