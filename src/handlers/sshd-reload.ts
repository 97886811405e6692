/**
 * sshd on a live host: a change to its configuration is judged by `sshd -t`
 * before anything reloads it, and reloaded only after it is committed, so a
 * configuration sshd would refuse never reaches the running daemon (which
 * would otherwise keep its old config until a restart, then fail to start and
 * lock everyone out). The engine calls `servicesValidate` in the validate
 * phase and `servicesReload` after a commit and after every undo, for any
 * transaction whose changed files are sshd's; a handler may call
 * `validateSshd` itself. Offline (--root) nothing is tested or reloaded: the
 * image's Include paths would resolve on this machine, and the image's sshd
 * is not running here.
 */
import type { Host, ServiceOutcome } from "../host/host.ts";

/** sshd's main configuration file. */
export const SSHD_CONFIG = "/etc/ssh/sshd_config";
const SSHD_DROPINS = "/etc/ssh/sshd_config.d/";

/** True when one of PATHS is sshd_config or inside sshd_config.d/. */
export function touchesSshd(paths: readonly string[]): boolean {
  return paths.some((p) => p === SSHD_CONFIG || p.startsWith(SSHD_DROPINS));
}

const OFFLINE: ServiceOutcome = { ok: true, skipped: true, detail: "offline image: not tested with sshd -t and not reloaded" };

/** `sshd -t` on the configuration as it is now; ok and skipped where the Host has no "services" (offline). */
export async function validateSshd(host: Host): Promise<ServiceOutcome> {
  if (!host.capabilities.has("services")) return OFFLINE;
  return host.testServiceConfig("sshd");
}

/** Reload the running sshd; ok and skipped where the Host has no "services" (offline) or sshd is not running. */
export async function reloadSshd(host: Host): Promise<ServiceOutcome> {
  if (!host.capabilities.has("services")) return OFFLINE;
  return host.reloadService("sshd");
}

/**
 * The validate phase for services whose files CHANGED touches: null when none
 * does, else sshd -t's outcome (not ok: the transaction must roll back).
 */
export async function servicesValidate(host: Host, changed: readonly string[]): Promise<ServiceOutcome | null> {
  return touchesSshd(changed) ? validateSshd(host) : null;
}

/**
 * After a commit (TESTED: sshd -t just passed), or after an undo restored sshd's files: test, then reload,
 * the services CHANGED touches. One line for the record ("sshd: reloaded (…)"),
 * or null when no service is touched. Never throws: the files are already
 * settled; a failed reload is reported, never undone.
 */
export async function servicesReload(host: Host, changed: readonly string[], opts: { tested?: boolean } = {}): Promise<string | null> {
  if (!touchesSshd(changed)) return null;
  try {
    // TESTED: the validate phase just ran sshd -t on these very bytes, under the run lock.
    const t = opts.tested ? null : await validateSshd(host);
    if (t && !t.ok) return `sshd: NOT reloaded: ${t.detail}`;
    return `sshd: ${(await reloadSshd(host)).detail}`;
  } catch (e) {
    return `sshd: reload FAILED: ${(e as Error).message}`;
  }
}

/** For `plan`: what will happen to sshd for a step whose footprint is FOOTPRINT (empty when none of it is sshd's). */
export function servicesPlan(host: Host, footprint: readonly string[]): string[] {
  if (!touchesSshd(footprint)) return [];
  return host.capabilities.has("services")
    ? ["sshd: the result is tested with sshd -t (rolled back if refused), then sshd is reloaded after commit"]
    : [`sshd: ${OFFLINE.detail}`];
}
