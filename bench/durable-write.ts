/**
 * 1,000 durable small-file replaces: KernelIoHost vs ShellHost, beside the
 * floor (write + fsync + rename + directory fsync in the fewest calls, through
 * node:fs) and a non-durable Bun.write. All in one run, on the same filesystem.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost } from "../src/host/index.ts";

const N = 1000;
const payload = new TextEncoder().encode("net.ipv4.ip_forward = 0\n");

async function timeIt(label: string, n: number, fn: (i: number) => Promise<void> | void): Promise<{ label: string; perOpUs: number }> {
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) await fn(i);
  return { label, perOpUs: (Bun.nanoseconds() - t0) / n / 1000 };
}

export async function benchDurableWrite(): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), "bulwark-bench-"));
  try {
    const kio = createHost({ path: "kernel-io", root });
    const shell = createHost({ path: "shell", root });
    const floorFile = join(root, "floor.conf");
    const floor = () => {
      const tmp = floorFile + ".tmp";
      const fd = openSync(tmp, "w", 0o644);
      writeSync(fd, payload);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, floorFile);
      const d = openSync(root, "r");
      fsyncSync(d);
      closeSync(d);
    };
    const results = [
      await timeIt("floor (node:fs write+fsync+rename+dir fsync)", N, floor),
      await timeIt("KernelIoHost.writeFile (O_TMPFILE, renameat2)", N, () => kio.writeFile("/kio.conf", payload)),
      await timeIt("ShellHost.writeFile (sh: cat, chmod, sync, mv)", N, () => shell.writeFile("/shell.conf", payload)),
      await timeIt("Bun.write (not durable)", N, async () => { await Bun.write(join(root, "plain.conf"), payload); }),
    ];
    const base = results[0]!.perOpUs;
    return [
      `durable small-file replace, ${N} each:`,
      ...results.map((r) => `  ${r.label.padEnd(50)} ${r.perOpUs.toFixed(1).padStart(9)} µs/op  ${(r.perOpUs / base).toFixed(2)}× floor`),
      `  ShellHost / KernelIoHost: ${(results[2]!.perOpUs / results[1]!.perOpUs).toFixed(1)}×`,
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
