/** Temp sysroots for tests: real directories on a real filesystem, removed afterwards. */
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";

export function makeSysroot(prefix = "bulwark-test-"): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Write FILES (logical path → content) under ROOT, creating directories. */
export function seed(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [p, c] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    writeFileSync(full, c);
  }
}

/** A fingerprint of every entry under ROOT: type, mode, owner, content hash / link target. */
export function snapshot(root: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const full = join(dir, name);
      const st = lstatSync(full);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(full)}`;
      else if (st.isDirectory()) { out[r] = `dir ${meta}`; walk(full, r); }
      else out[r] = `file ${meta} ${createHash("sha256").update(readFileSync(full)).digest("hex")}`;
    }
  };
  walk(root, "");
  return out;
}

/** Run a command; throw with its stderr when it fails. For mount/umount in tests. */
export function sh(cmd: string): string {
  const r = spawnSync("/bin/sh", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** True when this process may mount (root with CAP_SYS_ADMIN). */
export function canMount(): boolean {
  const { root, cleanup } = makeSysroot("bulwark-mnt-");
  try {
    return spawnSync("/bin/sh", ["-c", `mount -t tmpfs -o size=16k tmpfs ${root} && umount ${root}`]).status === 0;
  } finally {
    cleanup();
  }
}
