/**
 * Start a process outside the caller's login session, as a transient systemd
 * service (`systemd-run`): the confirm deadman's watcher on a live host booted
 * with systemd. setsid (detached.ts) leaves the session but not its cgroup, so
 * when pam_systemd made the login a logind session and logind is set to
 * KillUserProcesses=yes, ending the ssh connection stops session-N.scope and
 * kills the watcher with it; a service under system.slice is not in any
 * session, so logind's cleanup never reaches it.
 */
import { closeSync, constants, openSync } from "node:fs";
import { isAbsolute } from "node:path";
import { helperSearchPath } from "./executor.ts";

/** systemd-run itself could not start the unit (missing, refused, no bus): the caller may start the process another way. */
export class TransientUnitUnavailable extends Error {
  constructor(why: string) {
    super(why);
    this.name = "TransientUnitUnavailable";
  }
}

/** What to start and how. */
export interface TransientUnitSpec {
  /** The unit's name without ".service"; unique among loaded units. */
  unit: string;
  description: string;
  argv: readonly string[];
  /** Absolute path; stdout and stderr are appended to it. */
  log: string;
  /** The service's whole environment (systemd gives it nothing else). */
  env: Readonly<Record<string, string>>;
  /** The service's umask, so what it writes is created as the caller's own writes would be. */
  umask: number;
}

// systemd-run waits for the start job; a manager that answers nothing in this time is treated as unavailable.
const SYSTEMD_RUN_TIMEOUT_MS = 60_000;

/**
 * Start SPEC as a transient service and return its main pid. The service is
 * Type=exec (started only once execve succeeded), KillMode=process (stopping
 * it never kills what it started, e.g. a reload in progress) and collected
 * when it exits, even failed. Throws TransientUnitUnavailable when systemd-run
 * fails (nothing was started), any other error when the unit started but has
 * no main process any more (the process exited at once: see the log).
 */
export function spawnTransientUnit(spec: TransientUnitSpec): number {
  if (!isAbsolute(spec.log)) throw new Error(`transient unit log must be an absolute path (got ${spec.log})`);
  // Created here, 0600 and never through a symlink, like the setsid spawn's: systemd (PID 1) then opens the file as it finds it.
  closeSync(openSync(spec.log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600));
  // Found on the system PATH, never the caller's: root's PATH may hold anything.
  const search = helperSearchPath();
  const systemdRun = Bun.which("systemd-run", { PATH: search });
  const systemctl = Bun.which("systemctl", { PATH: search });
  if (!systemdRun || !systemctl) throw new TransientUnitUnavailable(`systemd-run or systemctl not found on ${search}`);
  const cmd = [
    systemdRun, "--quiet", "--no-ask-password", "--collect",
    `--unit=${spec.unit}`, `--description=${spec.description}`,
    "--property=Type=exec", "--property=KillMode=process",
    `--property=UMask=${spec.umask.toString(8).padStart(4, "0")}`,
    "--property=StandardInput=null",
    `--property=StandardOutput=append:${spec.log}`, `--property=StandardError=append:${spec.log}`,
    ...Object.entries(spec.env).map(([k, v]) => `--setenv=${k}=${v}`),
    "--", ...spec.argv,
  ];
  let run: ReturnType<typeof Bun.spawnSync>;
  try {
    run = Bun.spawnSync(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: SYSTEMD_RUN_TIMEOUT_MS });
  } catch (e) {
    throw new TransientUnitUnavailable(`systemd-run: ${(e as Error).message}`);
  }
  if (run.exitCode !== 0) {
    const why = (run.stderr ?? "").toString().trim().split("\n").slice(-2).join("; ") || `exit ${run.exitCode ?? run.signalCode}`;
    throw new TransientUnitUnavailable(`systemd-run: ${why}`);
  }
  const show = Bun.spawnSync([systemctl, "show", "--property=MainPID", "--value", `${spec.unit}.service`], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: SYSTEMD_RUN_TIMEOUT_MS });
  const pid = Number((show.stdout ?? "").toString().trim());
  if (show.exitCode !== 0 || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(`${spec.unit}.service started but has no main process (it exited at once; see ${spec.log})`);
  }
  return pid;
}
