/** What `doctor` and `version --verbose` report: facts about this machine, gathered read-only. */
import { existsSync, readFileSync } from "node:fs";
import { kernelIoUnavailable, type Host } from "../host/index.ts";
import { gatherDirs, gatherFile } from "../checks/fs-gather.ts";
import { effectiveSysctl, evaluateSysctl, isSysctlConfName, SYSCTL_CONF, SYSCTL_DIRS } from "../config/sysctl.ts";
import { loadLibc } from "../kernelio/mod.ts";

export interface DoctorFacts {
  libc: string;
  kernelIo: { available: boolean; why?: string };
  autoPath: "kernel-io" | "shell";
  moduleSupport: boolean;
  capSysModule: boolean | null;
  modulesDisabled: string | null;
}

/** CAP_SYS_MODULE (bit 16) in the effective set, from /proc/self/status. */
function hasCapSysModule(): boolean | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? (BigInt("0x" + m[1]) & (1n << 16n)) !== 0n : null;
  } catch {
    return null;
  }
}

export function gatherFacts(): DoctorFacts {
  const libc = loadLibc();
  const why = kernelIoUnavailable();
  let modulesDisabled: string | null = null;
  try {
    modulesDisabled = readFileSync("/proc/sys/kernel/modules_disabled", "utf8").trim();
  } catch {
    // absent on kernels without module support
  }
  return {
    libc: "error" in libc ? `none (${libc.error})` : `${libc.version} (${libc.path})`,
    kernelIo: why ? { available: false, why } : { available: true },
    autoPath: why ? "shell" : "kernel-io",
    moduleSupport: existsSync("/proc/modules"),
    capSysModule: hasCapSysModule(),
    modulesDisabled,
  };
}

/** The effective persistent value of a sysctl in the configuration under the Host's root (what boot applies). */
export async function persistentSysctl(host: Host, key: string): Promise<{ value: string | null; source: string | null }> {
  try {
    const cfg = evaluateSysctl(await gatherDirs(host, SYSCTL_DIRS, isSysctlConfName), await gatherFile(host, SYSCTL_CONF));
    const eff = effectiveSysctl(cfg, key);
    return { value: eff.value, source: eff.source ? `${eff.source.file}:${eff.source.line}` : null };
  } catch (e) {
    return { value: null, source: `unreadable: ${(e as Error).message}` };
  }
}
