/**
 * A private dbus-daemon for tests: started on a temp unix socket with its own
 * configuration (never the machine's system bus), policy open to everyone,
 * AUTH EXTERNAL only. The real daemon validates every message it routes, so
 * a malformed message of ours gets our connection dropped: it is the judge.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** True when dbus-daemon is installed (Debian package dbus-daemon, pulled in by `dbus`). */
export function dbusDaemonPresent(): boolean {
  return spawnSync("dbus-daemon", ["--version"]).status === 0;
}

/** True when dbus-send is installed (Debian package dbus-bin). */
export function dbusSendPresent(): boolean {
  return existsSync("/usr/bin/dbus-send");
}

/** A running private bus: its socket path, its address, and how to stop it. */
export interface PrivateBus {
  socket: string;
  address: string;
  stop(): void;
}

/** Start a private dbus-daemon on a temp socket; resolves once it printed its address. */
export async function startPrivateBus(): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-dbus-"));
  const socket = join(dir, "bus");
  const config = join(dir, "bus.conf");
  writeFileSync(config, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>bulwark-test</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`);
  const child: ChildProcess = spawn("dbus-daemon", [`--config-file=${config}`, "--print-address=1", "--nofork", "--nopidfile", "--nosyslog"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within 20 s (got ${JSON.stringify(out)})`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited ${code} before printing its address`));
    });
  });
  return {
    socket,
    address,
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
