/** What Bulwark left in a file — sha256 of the bytes, mode and owner — for later drift detection. */
import type { FileState, Host } from "../host/host.ts";
import type { WrittenFile } from "../store/types.ts";

/** sha256 hex of the file's bytes now, or null when it does not exist. */
export async function fileDigest(host: Host, path: string): Promise<string | null> {
  return (await fileLeft(host, path)).sha256;
}

/** The file as it is now: sha256, mode and owner; all null when it does not exist. */
export async function fileLeft(host: Host, path: string): Promise<WrittenFile> {
  return toLeft(path, await host.readFile(path));
}

function toLeft(path: string, f: FileState): WrittenFile {
  return f.exists
    ? { path, sha256: new Bun.CryptoHasher("sha256").update(f.bytes).digest("hex"), mode: f.mode, uid: f.uid, gid: f.gid }
    : { path, sha256: null, mode: null, uid: null, gid: null };
}

/** fileLeft for each path, in order, in one Host round trip. Throws when a path cannot be read (a symlink, not a regular file). */
export async function digestAll(host: Host, paths: readonly string[]): Promise<WrittenFile[]> {
  if (paths.length === 0) return [];
  const states = await host.readFiles(paths);
  return paths.map((p, i) => toLeft(p, states[i]!));
}

/**
 * digestAll that never throws: a path that cannot be read is left out. Used
 * after an undo, to record what it left; a path missing from that record is
 * judged against an older one, which errs toward reporting drift.
 */
export async function leftStates(host: Host, paths: readonly string[]): Promise<WrittenFile[]> {
  const unique = [...new Set(paths)].sort();
  try {
    return await digestAll(host, unique); // one round trip when every path is readable
  } catch {
    const out: WrittenFile[] = [];
    for (const path of unique) {
      try {
        out.push(await fileLeft(host, path));
      } catch {
        /* unreadable now (replaced by a symlink, say): nothing Bulwark can vouch for */
      }
    }
    return out;
  }
}
