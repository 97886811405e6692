/** What Bulwark left in a file, as a sha256, for later drift detection. */
import type { Host } from "../host/host.ts";
import type { WrittenFile } from "../store/types.ts";

/** sha256 hex of the file's bytes now, or null when it does not exist. */
export async function fileDigest(host: Host, path: string): Promise<string | null> {
  const f = await host.readFile(path);
  return f.exists ? new Bun.CryptoHasher("sha256").update(f.bytes).digest("hex") : null;
}

export async function digestAll(host: Host, paths: readonly string[]): Promise<WrittenFile[]> {
  const out: WrittenFile[] = [];
  for (const path of paths) out.push({ path, sha256: await fileDigest(host, path) });
  return out;
}
