/**
 * Running modprobe through an executor — shared by both Hosts: loading a module
 * needs dependency resolution, which only kmod does, so even KernelIoHost
 * reloads with `modprobe NAME`.
 */
import type { UnloadOutcome } from "./host.ts";
import { shellQuote, type Executor } from "./executor.ts";

export async function modprobeLoad(exec: Executor, name: string): Promise<{ ok: boolean; detail: string }> {
  const r = await exec.run(`modprobe -- ${shellQuote(name)}`);
  return r.code === 0 ? { ok: true, detail: "modprobe succeeded" } : { ok: false, detail: r.stderr || `modprobe exited ${r.code}` };
}

/** Classify `modprobe -r` stderr the way deleteModuleOutcome classifies errno. */
export function classifyModprobeRemove(code: number, stderr: string): UnloadOutcome {
  if (code === 0) return { kind: "unloaded" };
  const s = stderr.toLowerCase();
  if (s.includes("in use") || s.includes("resource temporarily unavailable") || s.includes("busy")) return { kind: "in-use", detail: stderr };
  if (s.includes("not permitted")) return { kind: "not-permitted", detail: stderr };
  if (s.includes("function not implemented")) return { kind: "unsupported", detail: stderr };
  if (s.includes("not currently loaded") || s.includes("not in kernel") || s.includes("not found")) return { kind: "not-loaded" };
  return { kind: "other", detail: stderr || `modprobe -r exited ${code}` };
}

export async function modprobeRemove(exec: Executor, name: string): Promise<UnloadOutcome> {
  const r = await exec.run(`modprobe -r -- ${shellQuote(name)}`);
  return classifyModprobeRemove(r.code, r.stderr);
}
