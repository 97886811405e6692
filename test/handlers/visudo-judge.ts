/**
 * The judge of sudoers drop-ins: sudo's own `visudo -c -f FILE`.
 *
 * Where visudo comes from, first found wins: BULWARK_TEST_SUDO_ROOT (a
 * directory holding an unpacked Debian sudo package, `dpkg-deb -x sudo_*.deb
 * DIR`: its visudo runs with LD_LIBRARY_PATH=DIR/usr/libexec/sudo), then a
 * `visudo` on PATH, then the Debian 12 test image's own visudo
 * (test/support/debian-image.ts; what CI uses). Missing: prerequisite().
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { prerequisite } from "../support/prereq.ts";
import { debianImage, imageToolsPresent } from "../support/debian-image.ts";

function locate(): { cmd: string[]; env: Record<string, string> } | null {
  const root = process.env.BULWARK_TEST_SUDO_ROOT;
  if (root && existsSync(join(root, "usr/sbin/visudo"))) {
    return { cmd: [join(root, "usr/sbin/visudo")], env: { LD_LIBRARY_PATH: join(root, "usr/libexec/sudo") } };
  }
  const r = Bun.spawnSync(["sh", "-c", "command -v visudo"], { stdout: "pipe", stderr: "pipe" });
  const path = r.stdout.toString().trim();
  if (r.exitCode === 0 && path) return { cmd: [path], env: {} };
  // The Debian 12 test image holds sudo installed: the same layout as an unpacked sudo package.
  if (imageToolsPresent()) {
    const img = debianImage();
    if (existsSync(join(img, "usr/sbin/visudo"))) {
      return { cmd: [join(img, "usr/sbin/visudo")], env: { LD_LIBRARY_PATH: join(img, "usr/libexec/sudo") } };
    }
  }
  return null;
}

const found = locate();

/** True when a visudo is available (else the tests that need it skip, or fail under CI). */
export const haveVisudo = prerequisite("visudo (sudo, or BULWARK_TEST_SUDO_ROOT=unpacked sudo .deb)", found !== null);

/** visudo's verdict on one sudoers file: exit code and its words. */
export function visudoCheck(file: string): { ok: boolean; out: string } {
  const r = Bun.spawnSync([...found!.cmd, "-c", "-f", file], { env: { ...process.env, ...found!.env }, stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString() + r.stderr.toString() };
}
