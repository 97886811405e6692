/**
 * The judge for sshd_config: the Debian 12 image's own sshd, run by chroot
 * (`sshd -T -f /etc/ssh/sshd_config` inside a private copy of the image),
 * from test/support/debian-image.ts.
 *
 * `BULWARK_SSHD_JUDGE_ROOT=DIR` points at any other root with a working
 * `/usr/sbin/sshd` (a throwaway chroot made from Debian's openssh-server
 * package during development); it is never used by CI.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SshdTree } from "../../src/config/sshd.ts";

export interface SshdJudge {
  /** The root whose /etc/ssh a test may rewrite (host keys and moduli stay). */
  root: string;
  /** `sshd -T -f PATH` in the root: exit code and output. */
  sshdT(configPath: string): { code: number; stdout: string; stderr: string };
  cleanup(): void;
}

/** Open the judge, or null when neither the image nor a development root is available. */
export async function openSshdJudge(): Promise<SshdJudge | null> {
  const dev = process.env.BULWARK_SSHD_JUDGE_ROOT;
  if (dev && existsSync(join(dev, "usr/sbin/sshd"))) {
    return { root: dev, sshdT: (p) => chrootSshdT(dev, p), cleanup: () => {} };
  }
  const modPath = "../support/debian-image.ts";
  let image: any;
  try {
    image = await import(modPath);
  } catch {
    return null;
  }
  if (typeof image.copyImage !== "function" || typeof image.sshdT !== "function") return null;
  if (typeof image.imageAvailable === "function" && !image.imageAvailable()) return null;
  const copy = await image.copyImage("debian12");
  const root: string = typeof copy === "string" ? copy : copy.root ?? copy.dir ?? copy.path;
  const cleanup = typeof copy === "object" && typeof copy.cleanup === "function" ? () => copy.cleanup() : () => rmSync(root, { recursive: true, force: true });
  return {
    root,
    sshdT: (p) => {
      const r = image.sshdT(root, p);
      return { code: r.code ?? r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    cleanup,
  };
}

function chrootSshdT(root: string, configPath: string) {
  mkdirSync(join(root, "run/sshd"), { recursive: true });
  const r = Bun.spawnSync(["chroot", root, "/usr/sbin/sshd", "-T", "-f", configPath], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
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
