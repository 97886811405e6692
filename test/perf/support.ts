/** Synthetic rule sets and a counting Host for the performance criteria (counts, never times). */
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import type { ResolvedRule } from "../../src/engine/types.ts";
import type { DirEntry, FileState, Host } from "../../src/host/host.ts";

/** N rules: even indices sysctl_set of bench.kI, odd ones kernel_module_disable of benchmodI. */
export function syntheticRules(n: number): ResolvedRule[] {
  return Array.from({ length: n }, (_, i): ResolvedRule => {
    const id = `perf-${i}`;
    return i % 2 === 0
      ? { id, title: id, severity: "low", check: { method: "sysctl_value", params: { key: `bench.k${i}`, expected: "1", comparator: "eq" } }, steps: [{ mechanism: "sysctl_set", params: { key: `bench.k${i}`, value: "1" } }] }
      : { id, title: id, severity: "low", check: { method: "kernel_module_state", params: { name: `benchmod${i}`, state: "blacklisted" } }, steps: [{ mechanism: "kernel_module_disable", params: { name: `benchmod${i}` } }] };
  });
}

/** Every file read, listing and readlink that reaches HOST (each is at least one openat on kernel-io). */
export function countingHost(host: Host): { host: Host; count: () => number } {
  let n = 0;
  const proxy = new Proxy(host, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== "function") return v;
      if (prop === "readFiles") return (paths: readonly string[]): Promise<FileState[]> => ((n += paths.length), v.call(target, paths));
      // The stamped variants (the shell path's one-script reads) are reads too.
      if (prop === "readFilesStamped" || prop === "readLinksStamped") return (paths: readonly string[]) => ((n += paths.length), v.call(target, paths));
      if (prop === "readFile" || prop === "listDir" || prop === "readLink" || prop === "listDirStamped" || prop === "readLinkStamped") {
        return (p: string): Promise<unknown> => (n++, v.call(target, p));
      }
      return v.bind(target);
    },
  });
  return { host: proxy, count: () => n };
}

/** HOST with its stamps counted: in all (paths stamped) and per path (statStamps only: a revalidate's or a write's look). */
export function stampCounting(host: Host): { host: Host; stamped: () => number; perPath: Map<string, number> } {
  let n = 0;
  const perPath = new Map<string, number>();
  const inner = host.statStamps?.bind(host);
  const proxy = new Proxy(host, {
    get(target, prop, recv) {
      if (prop === "statStamps" && inner) {
        return (paths: readonly string[]) => {
          n += paths.length;
          for (const p of paths) perPath.set(p, (perPath.get(p) ?? 0) + 1);
          return inner(paths);
        };
      }
      // The shell path's reads that take their paths' stamps in the same script stamp each path they read.
      const v0 = Reflect.get(target, prop, recv);
      if ((prop === "readFilesStamped" || prop === "readLinksStamped") && typeof v0 === "function") return (paths: readonly string[]) => ((n += paths.length), v0.call(target, paths));
      if ((prop === "listDirStamped" || prop === "readLinkStamped") && typeof v0 === "function") return (p: string) => (n++, v0.call(target, p));
      return typeof v0 === "function" ? v0.bind(target) : v0;
    },
  });
  return { host: proxy, stamped: () => n, perPath };
}
