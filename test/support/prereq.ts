/**
 * Test prerequisites (kmod, procps, mount, dpkg/rpm, the reference corpora):
 * the ONE way a test may skip (test/ship/spec-gate.test.ts enforces it). Under
 * CI a missing one fails loudly: .ci/run installs them, so a silent skip would
 * hide an install step that broke, and the spec gate counts only tests that
 * ran and passed. Elsewhere (a workstation) its tests skip with a notice.
 */
export function prerequisite(what: string, present: boolean): boolean {
  if (present) return true;
  if (underCI()) throw new Error(`test prerequisite missing under CI: ${what} (.ci/run must install it)`);
  console.warn(`notice: ${what} is not available here; the tests that need it are skipped`);
  return false;
}

/** True when CI is set to anything but "", "0" or "false" (CI systems set CI=true). */
export function underCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}
