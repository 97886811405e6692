/**
 * What the running machine offers, decided once per Host. Offline image mode
 * never offers runtime kernel operations: the kernel running Bulwark is not
 * the image's kernel.
 */
import { existsSync } from "node:fs";
import type { Capability } from "./host.ts";

export function runtimeCapabilities(offline: boolean): ReadonlySet<Capability> {
  const caps = new Set<Capability>(["files"]);
  if (offline) return caps;
  if (existsSync("/proc/modules")) caps.add("modules");
  if (existsSync("/proc/sys/kernel")) caps.add("sysctl");
  return caps;
}
