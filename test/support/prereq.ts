/**
 * Test prerequisites (kmod, procps, mount, dpkg/rpm, QEMU). Under CI a missing
 * one fails loudly — .ci/run installs them, so a silent skip would hide an
 * install step that broke. Elsewhere (a workstation) its tests skip with a notice.
 */
export function prerequisite(what: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI) throw new Error(`test prerequisite missing under CI: ${what} (.ci/run must install it)`);
  console.warn(`notice: ${what} is not available here; the tests that need it are skipped`);
  return false;
}
