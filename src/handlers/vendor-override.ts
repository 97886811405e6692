/**
 * Neutralising a line in a vendor file (under /usr/lib, /lib, /usr/local/lib
 * or /run) the way the distribution intends: not by editing the package's
 * file, but by masking it with a same-named file in the /etc directory (kmod,
 * procps and systemd-sysctl all let an /etc name mask the same name later in
 * their list). The /etc copy holds the vendor's bytes unchanged except the
 * conflicting lines, which carry the `# bulwark: ` marker like any LineEdit.
 *
 * Lifecycle: capture records that the /etc name did not exist (an existing one
 * already masks the vendor file, so the vendor file is not read and nothing
 * here applies) and the vendor bytes the lines were computed from; apply
 * refuses when either changed; rollback removes the /etc copy (restoreFile of
 * the absent pre-state), which un-masks the vendor file byte for byte.
 *
 * Why the copy does not follow later package updates: it is a snapshot, like
 * any administrator's override. `plan` says which file is masked.
 */
import type { Host } from "../host/host.ts";
import { captureFile, fromLatin1, lineText, neutralise, sameBytes, toLatin1, type FilePre, type NeutralisedLine } from "./file-state.ts";

/** A captured override: the /etc copy to create, the vendor file it masks, the lines it comments out. */
export type VendorOverride = {
  /** The vendor file as the reader names it (`/usr/lib/sysctl.d/50-default.conf`). */
  from: string;
  /** The vendor file's bytes when captured (base64 inside `vendor.b64`), mode kept for the copy. */
  vendor: FilePre;
  /** The /etc path created (`/etc/sysctl.d/50-default.conf`); `prior.existed` is always false. */
  path: string;
  prior: FilePre;
  lines: NeutralisedLine[];
};

/** True when PATH is in one of the /etc configuration directories (edited in place, never overridden). */
export const isUnderEtc = (path: string): boolean => path.startsWith("/etc/");

/**
 * Capture an override of the vendor file FROM (real path REAL) by ETC_DIR/<its
 * name>, commenting out LINE. Merges into OVERRIDES (one per vendor file).
 * Returns a refusal reason when the /etc name already exists.
 */
export async function captureOverride(
  host: Host,
  overrides: Map<string, VendorOverride>,
  from: string,
  real: string,
  etcDir: string,
  line: number,
): Promise<string | null> {
  let o = overrides.get(from);
  if (!o) {
    const path = `${etcDir}/${from.slice(from.lastIndexOf("/") + 1)}`;
    const prior = await captureFile(host, path);
    if (prior.existed) return `${path} exists but ${from} is still read: not overriding it`;
    o = { from, vendor: { ...(await captureFile(host, real)), path: real }, path, prior, lines: [] };
    overrides.set(from, o);
  }
  if (!o.lines.some((l) => l.line === line)) {
    o.lines.push({ line, text: lineText(o.vendor, line) });
    o.lines.sort((a, b) => a.line - b.line);
  }
  return null;
}

/** Write the /etc copy. Refuses (throws, nothing written) when the vendor file or the /etc name changed since capture. */
export async function applyOverride(host: Host, o: VendorOverride): Promise<void> {
  const vendorNow = await host.readFile(o.vendor.path);
  const vendorThen = new Uint8Array(Buffer.from(o.vendor.b64 ?? "", "base64"));
  if (!vendorNow.exists || !sameBytes(vendorNow.bytes, vendorThen)) throw new Error(`${o.from} changed since it was captured; not overriding it`);
  if ((await host.readFile(o.path)).exists) throw new Error(`${o.path} appeared since capture; not replacing it`);
  await host.writeFile(o.path, fromLatin1(neutralise(toLatin1(vendorThen), o.lines)), { mode: o.vendor.mode ?? 0o644 });
}

/** Plan lines for an override. */
export function describeOverride(o: VendorOverride, why: string): string[] {
  return [
    `create ${o.path} masking ${o.from}: its lines unchanged except ${o.lines.length} commented out (${why}); rollback removes it`,
    ...o.lines.map((l) => `  comment out ${o.from}:${l.line} "${l.text}" in the copy`),
  ];
}
