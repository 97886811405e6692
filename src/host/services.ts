/**
 * Testing and reloading services, the same on both paths: one POSIX sh
 * script per operation, run by the Host's executor (kernel-io delegates
 * here, as it does for `modprobe`). Why not SIGHUP from libc on kernel-io:
 * /run/sshd.pid can be stale, and a HUP to a reused pid hits an unrelated
 * process; systemd knows sshd's main pid, so `systemctl reload` is the
 * reload of record, and the pid file is used only without systemd, and only
 * when /proc/PID/comm says the pid is sshd.
 */
import { shellQuote as q, type Executor } from "./executor.ts";
import type { ServiceName, ServiceOutcome } from "./host.ts";
import { mapUnder } from "./sysroot.ts";

/** Debian and Ubuntu call the unit ssh.service, RHEL sshd.service. */
const SSHD_UNITS = ["ssh.service", "sshd.service"];

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8").trim();

/** `sshd -t -f ROOT/etc/ssh/sshd_config`: the daemon's own judgement of the file, changing nothing. */
export async function testServiceConfig(exec: Executor, root: string, service: ServiceName): Promise<ServiceOutcome> {
  const cfg = mapUnder(root, "/etc/ssh/sshd_config");
  const r = await exec.run(`command -v sshd >/dev/null 2>&1 || { printf NOSSHD; exit 0; }
sshd -t -f ${q(cfg)}`);
  if (r.code === 0 && text(r.stdout) === "NOSSHD") return { ok: true, skipped: true, detail: `${service} is not installed (no sshd on PATH): nothing to test` };
  if (r.code === 0) return { ok: true, detail: "sshd -t accepted /etc/ssh/sshd_config" };
  return { ok: false, detail: `sshd -t rejected /etc/ssh/sshd_config (exit ${r.code}): ${r.stderr || text(r.stdout) || "no message"}` };
}

/** Reload the running sshd: `systemctl reload` of its active unit, else SIGHUP to a verified pid file's sshd; skipped when not running. */
export async function reloadService(exec: Executor, root: string, service: ServiceName): Promise<ServiceOutcome> {
  const pidFile = q(mapUnder(root, "/run/sshd.pid"));
  const r = await exec.run(`if command -v systemctl >/dev/null 2>&1; then
  for u in ${SSHD_UNITS.map(q).join(" ")}; do
    if systemctl is-active --quiet "$u" 2>/dev/null; then
      systemctl reload "$u" || exit 1
      printf 'systemctl reload %s' "$u"; exit 0
    fi
  done
fi
if [ -f ${pidFile} ]; then
  pid=$(head -c 16 ${pidFile} | tr -cd 0-9)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then
    kill -HUP "$pid" || exit 1
    printf 'SIGHUP to sshd pid %s' "$pid"; exit 0
  fi
fi
printf NOTRUNNING`);
  const out = text(r.stdout);
  if (r.code !== 0) return { ok: false, detail: `reload FAILED (${out || "exit " + r.code}): ${r.stderr || "no message"}; sshd still runs its previous configuration` };
  if (out === "NOTRUNNING") return { ok: true, skipped: true, detail: `${service} is not running: nothing to reload` };
  return { ok: true, detail: `reloaded (${out})` };
}
