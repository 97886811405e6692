/**
 * What the running machine offers, decided once per Host. Offline image mode
 * never offers runtime kernel operations: the kernel running Bulwark is not
 * the image's kernel.
 */
import { existsSync } from "node:fs";
import type { Capability } from "./host.ts";

export function runtimeCapabilities(offline: boolean): ReadonlySet<Capability> {
  // Packages: the root's own database decides dpkg or rpm at each call (src/host/packages.ts).
  const caps = new Set<Capability>(["files", "packages"]);
  if (offline && servicesStandIn()) caps.add("services");
  if (offline) return caps;
  caps.add("services");
  // systemd's own test for "booted with systemd" (sd_booted): /run/systemd/system exists.
  if (existsSync("/run/systemd/system")) caps.add("units");
  if (existsSync("/proc/modules")) caps.add("modules");
  if (existsSync("/proc/sys/kernel")) caps.add("sysctl");
  if (existsSync("/proc/self/mountinfo")) caps.add("mounts");
  return caps;
}

/**
 * Tests only: an image stands in for a live host's services (sshd -t, reload)
 * when BULWARK_TEST_LIVE_SERVICES=1 AND a usable BULWARK_TEST_PATH_PREPEND puts
 * fake programs first on the helper shell's PATH, so a test never reaches the
 * real machine's sshd.
 */
function servicesStandIn(): boolean {
  const pre = process.env.BULWARK_TEST_PATH_PREPEND;
  return process.env.BULWARK_TEST_LIVE_SERVICES === "1" && pre !== undefined && pre.startsWith("/") && existsSync(pre);
}
