/**
 * The judge for sshd_config: the Debian 12 image's own sshd, run by chroot
 * (`sshd -T -f /etc/ssh/sshd_config` inside a private copy of the image),
 * from test/support/debian-image.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SshdTree } from "../../src/config/sshd.ts";
import { copyImage, imageAvailable, sshdT } from "../support/debian-image.ts";

export interface SshdJudge {
  /** The root of a private image copy whose /etc/ssh a test may rewrite (host keys and moduli stay). */
  root: string;
  /** `sshd -T -f PATH` in the copy: exit code and output. */
  sshdT(configPath: string): { code: number; stdout: string; stderr: string };
  cleanup(): void;
}

/** A private copy of the image with its sshd as judge, or null when the image cannot be had (prerequisite()). */
export function openSshdJudge(): SshdJudge | null {
  if (!imageAvailable()) return null;
  const copy = copyImage("debian12");
  return { root: copy.root, sshdT: (p) => sshdT(copy.root, p), cleanup: () => copy.cleanup() };
}

/** Read every file and directory under ROOT/DIR into a tree keyed by logical paths (latin1). */
export function readTree(root: string, dirs: readonly string[]): SshdTree {
  const files = new Map<string, string>();
  const listing = new Map<string, string[]>();
  const walk = (logical: string) => {
    const real = join(root, logical);
    const names = readdirSync(real);
    listing.set(logical, names);
    for (const n of names) {
      const lp = `${logical}/${n}`;
      const st = statSync(join(root, lp));
      if (st.isDirectory()) walk(lp);
      else files.set(lp, readFileSync(join(root, lp)).toString("latin1"));
    }
  };
  for (const d of dirs) walk(d);
  // The parents up to / exist as directories (listed with only the next component: enough for globs under them).
  for (const d of dirs) {
    const parts = d.split("/").filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const p = "/" + parts.slice(0, i).join("/");
      const key = p === "/" ? "/" : p;
      if (!listing.has(key)) listing.set(key, readdirSync(join(root, key)));
    }
  }
  return { files, dirs: listing, complete: true };
}

/** sshd -T output as keyword → value; keywords printed once per item are joined like SshdEffective.value (subsystem lines by newline). */
export function parseSshdT(stdout: string): Map<string, string> {
  const out = new Map<string, string[]>();
  for (const l of stdout.split("\n")) {
    const i = l.indexOf(" ");
    if (i <= 0) continue;
    const k = l.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), l.slice(i + 1)]);
  }
  return new Map([...out].map(([k, vs]) => [k, vs.join(k === "subsystem" ? "\n" : " ")]));
}
