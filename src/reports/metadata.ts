/**
 * The run metadata every JSON/JSONL document and every report carries: which
 * host (name, machine id, OS, kernel), which tool (version, commit), which
 * profile, and when. The one module that builds it, so every format agrees.
 * It reads the target through the Host (so --root reads the image's own
 * /etc/hostname and /etc/machine-id); everything read is untrusted and
 * validated here, so a report never carries an image's raw bytes as identity.
 */
import type { Host } from "../host/host.ts";
import { COMMIT, VERSION } from "../version.ts";

/** Run metadata, in the JSON key spelling of docs/output.md. Times are ISO-8601 UTC. */
export interface RunMeta {
  tool: { name: "bulwark"; version: string; commit: string };
  host: {
    /** The target's host name: the live host's, or the image's /etc/hostname; null when it has none. */
    name: string | null;
    /** /etc/machine-id of the target (32 lowercase hex digits); null when absent or malformed. */
    machine_id: string | null;
    /** "debian 12", "unknown OS". */
    os: string;
    /** The running kernel's release on a live host; null for an offline image (no kernel runs it). */
    kernel: string | null;
    /** "kernel-io" | "shell". */
    path: string;
    root: string;
  };
  /** The profile the rules were selected by; null when the run used no profile. */
  profile: string | null;
  started_at: string;
  finished_at: string;
}

const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;
const MACHINE_ID_RE = /^[0-9a-f]{32}$/;

/** The first line of a file under the target, trimmed; null when absent, unreadable or not one short line. */
async function firstLine(host: Host, path: string): Promise<string | null> {
  try {
    const f = await host.readFile(path);
    if (!f.exists || f.bytes.length > 4096) return null;
    return new TextDecoder().decode(f.bytes).split("\n")[0]!.trim();
  } catch {
    return null; // a refused file (symlink out of the image, FIFO) is no identity
  }
}

/** What is known about the target before the run: read once, at the start. */
export interface TargetIdentity {
  name: string | null;
  machineId: string | null;
  kernel: string | null;
}

/**
 * Read the target's identity through HOST. On the live host (root "/") the
 * name and kernel are this machine's; under --root, the image's /etc/hostname
 * and no kernel. Values that are not a valid host name or machine id are null.
 */
export async function readTargetIdentity(host: Host): Promise<TargetIdentity> {
  const live = host.root === "/";
  // Required here, not imported: node:os is only for the live host, and evaluating it was ~1 % of a `check --root` start.
  const os = live ? (require("node:os") as typeof import("node:os")) : null;
  const rawName = os ? os.hostname() : await firstLine(host, "/etc/hostname");
  const machineId = await firstLine(host, "/etc/machine-id");
  return {
    name: rawName !== null && HOSTNAME_RE.test(rawName) ? rawName : null,
    machineId: machineId !== null && MACHINE_ID_RE.test(machineId) ? machineId : null,
    kernel: os ? os.release() : null,
  };
}

/** The metadata document of one run; pure over what was read. */
export function runMeta(
  id: TargetIdentity,
  target: { path: string; root: string; os: string },
  profile: string | null,
  startedAt: string,
  finishedAt: string,
): RunMeta {
  return {
    tool: { name: "bulwark", version: VERSION, commit: COMMIT },
    host: { name: id.name, machine_id: id.machineId, os: target.os, kernel: id.kernel, path: target.path, root: target.root },
    profile,
    started_at: startedAt,
    finished_at: finishedAt,
  };
}
