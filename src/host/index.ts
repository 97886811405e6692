/** The Host factory: `auto` takes the kernel-IO path when libc binds, else the shell. */
import { loadLibc } from "../kernelio/mod.ts";
import type { Host, HostPath } from "./host.ts";
import { KernelIoHost } from "./kernel-io-host.ts";
import { ShellHost } from "./shell-host.ts";
import { normaliseRoot } from "./sysroot.ts";
import type { Executor } from "./executor.ts";

export * from "./host.ts";
export { KernelIoHost } from "./kernel-io-host.ts";
export { ShellHost } from "./shell-host.ts";
export { shellQuote, localExecutor, persistentShell, type Executor } from "./executor.ts";
export type { HeldLock } from "./file-lock.ts";
export { kernelModuleName, isValidModuleName } from "../params/module-name.ts";
export { pathComponents, mapUnder, InvalidPath } from "./sysroot.ts";

export const allHostPaths: readonly HostPath[] = ["kernel-io", "shell"];

export interface HostChoice {
  path: HostPath | "auto";
  /** Sysroot; "/" or undefined for the live host. */
  root?: string;
  executor?: Executor;
}

/** The libc kernel-io would bind, as one line for `doctor` ("none (why)" when it cannot load); never throws. */
export function libcDescription(): string {
  const l = loadLibc();
  return "error" in l ? `none (${l.error})` : `${l.version} (${l.path})`;
}

/** Why `auto` would not pick kernel-io, or null when it would. */
export function kernelIoUnavailable(): string | null {
  const l = loadLibc();
  return "error" in l ? l.error : null;
}

export function createHost(choice: HostChoice): Host {
  const root = normaliseRoot(choice.root);
  const want = choice.path === "auto" ? (kernelIoUnavailable() ? "shell" : "kernel-io") : choice.path;
  if (want === "shell") return new ShellHost(root, choice.executor);
  const libc = loadLibc();
  if ("error" in libc) throw new Error(`kernel-io path unavailable: ${libc.error}`);
  return new KernelIoHost(root, libc, choice.executor);
}
