/** Drive the compiled binary: build it once per test file, run it, and make Ubuntu 24.04 sysroots. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeSysroot, seed, snapshot } from "../support/sysroot.ts";

export const REPO = join(import.meta.dir, "../..");
export const BIN = join(REPO, "dist/bulwark");

/** Always rebuild: it takes well under a second, and a stale binary would test old code. */
export function buildBinary(): void {
  const r = Bun.spawnSync([process.execPath, join(REPO, "scripts/build-binary.ts")], { cwd: REPO, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`build-binary failed: ${r.stderr.toString()}`);
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function bulwark(args: string[], env: Record<string, string | undefined> = {}): Result {
  const t0 = performance.now();
  const r = Bun.spawnSync([BIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ms: performance.now() - t0 };
}

/** Parse stdout as one JSON document, failing with the output when it is not. */
export function json<T = any>(r: Result): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}

export function jsonl(r: Result): any[] {
  return r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
}

export const OS_RELEASE = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n';

/**
 * The kernel-module and sysctl rules: what a minimal ubuntuRoot() can be remediated with. The file, SSH and PAM
 * rules need a real distribution's files and are proven on the Debian 12 image (test/e2e-image).
 */
export const KERNEL_RULES = ["--tag", "kernel-module", "--tag", "sysctl"] as const;

/**
 * An Ubuntu 24.04 image: os-release, an unrelated modprobe drop-in, an existing
 * sysctl.conf that contradicts a rule (the remediation must win over it, and
 * rollback must restore it byte for byte), and var/lib so the state directory
 * is the only thing Bulwark adds.
 */
export function ubuntuRoot(): { root: string; cleanup(): void } {
  const s = makeSysroot("bulwark-cli-");
  seed(s.root, {
    "etc/os-release": OS_RELEASE,
    "etc/modprobe.d/local.conf": "# local settings\noptions snd_hda_intel power_save=1\n",
    "etc/sysctl.d/10-local.conf": "vm.swappiness = 10\n",
    "etc/sysctl.conf": "# sysctl.conf\nnet.ipv4.conf.all.send_redirects = 1\n",
  });
  mkdirSync(join(s.root, "var/lib"), { recursive: true });
  return s;
}

export const STATE_REL = "var/lib/bulwark";
/** Everything under ROOT except Bulwark's own state directory. */
export function imageSnapshot(root: string): Record<string, string> {
  return snapshot(root, (rel) => rel === STATE_REL || rel.startsWith(`${STATE_REL}/`));
}
