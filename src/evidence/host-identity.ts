/**
 * Who made a record: host name, machine id, OS, kernel, tool version. Read
 * through the Host, so under --root they are the image's own (/etc/hostname,
 * /etc/machine-id) and the kernel is null: an offline image runs no kernel,
 * and the machine doing the work is not the one the record is about.
 */
import { hostname, release } from "node:os";
import type { Host } from "../host/host.ts";
import { COMMIT, VERSION } from "../version.ts";

/** The identity fields every record carries; null where the target has no such fact. */
export interface HostIdentity {
  hostname: string | null;
  machineId: string | null;
  os: string;
  kernel: string | null;
  tool: { name: "bulwark"; version: string; commit: string };
}

/** The first line of PATH under the Host, trimmed; null when absent, unreadable or empty (an image's file is untrusted: capped). */
async function firstLine(host: Host, path: string): Promise<string | null> {
  try {
    const f = await host.readFile(path);
    if (!f.exists) return null;
    const line = new TextDecoder().decode(f.bytes.subarray(0, 256)).split("\n")[0]!.trim();
    return line === "" ? null : line;
  } catch {
    return null;
  }
}

/** The identity of HOST's target; OS_LABEL is what the CLI read from os-release ("debian 12"). */
export async function readHostIdentity(host: Host, osLabel: string): Promise<HostIdentity> {
  const live = host.root === "/";
  return {
    hostname: live ? hostname() : await firstLine(host, "/etc/hostname"),
    machineId: await firstLine(host, "/etc/machine-id"),
    os: osLabel,
    kernel: live ? release() : null,
    tool: { name: "bulwark", version: VERSION, commit: COMMIT },
  };
}
