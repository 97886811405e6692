/**
 * Sysctl key → /proc/sys path. A key's dots are directory separators; a `/`
 * in a key stands for a literal dot in one segment (net.ipv4.conf.eth0/100.rp_filter),
 * as in sysctl(8). Pure: the shell path uses the same mapping.
 */
const SEGMENT = /^[A-Za-z0-9_\-/:@+]+$/;

/** Path components under /proc/sys for KEY; throws an Error describing why the key is unsafe. */
export function sysctlComponents(key: string): string[] {
  const segs = key.split(".");
  for (const s of segs) {
    if (!SEGMENT.test(s) || s.split("/").some((p) => p === "" || p === "..")) {
      throw new Error(`invalid sysctl key ${JSON.stringify(key)}`);
    }
  }
  return ["proc", "sys", ...segs.map((s) => s.replaceAll("/", "."))];
}
