/**
 * Hostile images for the service, mount and package mechanisms (issue 16):
 * the unit search path, /etc/fstab and the dpkg database planted with
 * symlinks out of the image, FIFOs and an oversize unit file. Built like
 * images.ts's attacks (an Ubuntu 24.04 sysroot and a host canary beside it);
 * each selects its own rules with --rules-dir.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, symlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { seed } from "../support/sysroot.ts";
import { baseImage, BIG_MB, type Attack, type HostileImage, type HostPath } from "./images.ts";

const BOTH: readonly HostPath[] = ["kernel-io", "shell"];
const ALL = ["check", "plan", "remediate", "rollback", "recover", "history"] as const;
const LIB = "usr/lib/systemd/system";
const UNIT = "[Unit]\nDescription=bulwark hostile-image unit\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

/** The state directory and its parents: what a refused rule may still write. */
const STATE_ONLY = ["var", "var/lib", "var/lib/bulwark/"];

type Step = Record<string, unknown>;
interface RuleSpec { id: string; check: Step; remediation: Step }

/** Write RULES (no platforms: the image's os-release does not matter) as a --rules-dir under the attack's dir. */
function withRules(img: HostileImage, rules: RuleSpec[]): void {
  const dir = join(img.dir, "rules");
  const common = { description: "d", rationale: "r", severity: "low", category: "services" };
  seed(dir, Object.fromEntries(rules.map((r) => [`${r.id}.yml`, JSON.stringify({ ...common, id: r.id, title: r.id, implementations: [{ default: true, check: r.check, remediation: r.remediation }] }, null, 2)])));
  img.select = ["--rules-dir", dir];
}

/** A unit search path with one real unit (enabled by a rule) and the directories systemctl needs. */
function unitImage(prefix: string): HostileImage {
  const img = baseImage(prefix);
  seed(img.root, { [`${LIB}/bw-good.service`]: UNIT });
  mkdirSync(join(img.root, "etc/systemd/system"), { recursive: true });
  return img;
}

const enableGood: RuleSpec = {
  id: "svc-hostile-enable",
  check: { method: "service_state", name: "bw-good.service", enabled: true },
  remediation: { mechanism: "service_enabled", name: "bw-good.service" },
};
const maskGood: RuleSpec = {
  id: "svc-hostile-mask",
  check: { method: "service_state", name: "bw-good.service", enabled: false },
  remediation: { mechanism: "service_masked", name: "bw-good.service" },
};

function mkfifo(path: string): void {
  const r = spawnSync("mkfifo", ["-m", "644", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed: ${r.stderr}`);
}

export const UNIT_ATTACKS: Attack[] = [
  {
    name: "units-dir-symlink",
    criterion: "hostile-image/AC-14",
    what: "etc/systemd/system is a symlink to a host directory",
    commands: ALL,
    paths: BOTH,
    offending: "/etc/systemd/system",
    build() {
      const img = baseImage("units-dir");
      seed(img.root, { [`${LIB}/bw-good.service`]: UNIT });
      mkdirSync(join(img.root, "etc/systemd"), { recursive: true });
      symlinkSync(join(img.host, "dir"), join(img.root, "etc/systemd/system"));
      withRules(img, [enableGood]);
      img.footprint = STATE_ONLY;
      return img;
    },
  },
  {
    name: "wants-dir-symlink",
    criterion: "hostile-image/AC-14",
    what: "etc/systemd/system/multi-user.target.wants is a symlink to a host directory standing in for the host's /etc",
    commands: ALL,
    paths: BOTH,
    offending: "multi-user.target.wants",
    build() {
      const img = unitImage("wants-dir");
      // The host's "/etc" stand-in: a real /etc would be the machine's own configuration, which tests never risk.
      seed(img.host, { "etc/hostname": "host\n" });
      symlinkSync(join(img.host, "etc"), join(img.root, "etc/systemd/system/multi-user.target.wants"));
      withRules(img, [enableGood]);
      img.footprint = STATE_ONLY;
      return img;
    },
  },
  {
    name: "unit-links-outside",
    criterion: "hostile-image/AC-15",
    what: "unit files are symlinks to host files (a unit whose [Install] names a host-only target, and a plain host file); one is masked by a rule",
    commands: ALL,
    paths: BOTH,
    offending: "bw-leak.service",
    build() {
      const img = unitImage("unit-links");
      // If Bulwark followed the link out of the image it would read WantedBy=host-leak.target and make that .wants dir.
      seed(img.host, { "leak.service": "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=host-leak.target\n" });
      symlinkSync(join(img.host, "leak.service"), join(img.root, LIB, "bw-leak.service"));
      symlinkSync(join(img.host, "important.txt"), join(img.root, "etc/systemd/system/bw-important.service"));
      withRules(img, [
        { id: "svc-hostile-leak", check: { method: "service_state", name: "bw-leak.service", enabled: true }, remediation: { mechanism: "service_enabled", name: "bw-leak.service" } },
        { id: "svc-hostile-important", check: { method: "service_state", name: "bw-important.service", enabled: false }, remediation: { mechanism: "service_masked", name: "bw-important.service" } },
      ]);
      img.footprint = [...STATE_ONLY, "etc/systemd/system/"];
      return img;
    },
  },
  {
    name: "unit-file-special",
    criterion: "hostile-image/AC-16",
    what: "a unit file that is a FIFO, and a link to a FIFO",
    commands: ["check", "plan", "remediate", "rollback", "recover"],
    paths: BOTH,
    offending: "bw-fifo.service",
    build() {
      const img = unitImage("unit-special");
      mkfifo(join(img.root, LIB, "bw-fifo.service"));
      mkdirSync(join(img.root, "run"), { recursive: true });
      mkfifo(join(img.root, "run/pipe"));
      symlinkSync("/run/pipe", join(img.root, "etc/systemd/system/bw-tofifo.service"));
      withRules(img, [
        { id: "svc-hostile-fifo", check: { method: "service_state", name: "bw-fifo.service", enabled: false }, remediation: { mechanism: "service_masked", name: "bw-fifo.service" } },
        { id: "svc-hostile-tofifo", check: { method: "service_state", name: "bw-tofifo.service", enabled: false }, remediation: { mechanism: "service_disabled", name: "bw-tofifo.service" } },
      ]);
      img.footprint = [...STATE_ONLY, "etc/systemd/system/"];
      return img;
    },
  },
  {
    name: "unit-file-oversize",
    criterion: "hostile-image/AC-16",
    what: `a ${BIG_MB} MiB unit file in the search path`,
    commands: ["check", "plan", "remediate"],
    paths: BOTH,
    offending: "bw-big.service",
    build() {
      const img = unitImage("unit-big");
      const fd = openSync(join(img.root, LIB, "bw-big.service"), "w");
      const chunk = Buffer.from("# padding padding padding padding padding padding padding\n".repeat(17000));
      for (let i = 0; i < BIG_MB; i++) writeSync(fd, chunk);
      writeSync(fd, UNIT);
      closeSync(fd);
      withRules(img, [
        { id: "svc-hostile-big", check: { method: "service_state", name: "bw-big.service", enabled: true }, remediation: { mechanism: "service_enabled", name: "bw-big.service" } },
      ]);
      img.footprint = STATE_ONLY;
      return img;
    },
  },
  {
    name: "fstab-symlink",
    criterion: "hostile-image/AC-17",
    what: "etc/fstab is a symlink to a host file that holds a /tmp entry",
    commands: ALL,
    paths: BOTH,
    offending: "/etc/fstab",
    build() {
      const img = baseImage("fstab");
      seed(img.host, { fstab: "tmpfs /tmp tmpfs defaults 0 0\n" });
      symlinkSync(join(img.host, "fstab"), join(img.root, "etc/fstab"));
      withRules(img, [
        { id: "mount-hostile-tmp", check: { method: "mount_option", mount_point: "/tmp", options: ["nodev"] }, remediation: { mechanism: "mount_option_set", mount_point: "/tmp", options: ["nodev"] } },
        { id: "mount-hostile-shm", check: { method: "mount_option", mount_point: "/dev/shm", options: ["nodev"] }, remediation: { mechanism: "mount_option_set", mount_point: "/dev/shm", options: ["nodev"] } },
      ]);
      img.footprint = STATE_ONLY;
      return img;
    },
  },
  {
    name: "dpkg-status-symlink",
    criterion: "hostile-image/AC-18",
    what: "var/lib/dpkg/status is a symlink to a host file that lists an installed package",
    commands: ALL,
    paths: BOTH,
    offending: "/var/lib/dpkg/status",
    build() {
      const img = baseImage("dpkg");
      seed(img.host, {
        status: "Package: bw-host-only\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: x <x@example.org>\nArchitecture: all\nVersion: 1.0\nDescription: host package\n\n",
      });
      mkdirSync(join(img.root, "var/lib/dpkg/info"), { recursive: true });
      mkdirSync(join(img.root, "var/lib/dpkg/updates"), { recursive: true });
      symlinkSync(join(img.host, "status"), join(img.root, "var/lib/dpkg/status"));
      withRules(img, [
        { id: "pkg-hostile-absent", check: { method: "package_state", name: "bw-host-only", state: "absent" }, remediation: { mechanism: "package_absent", name: "bw-host-only" } },
      ]);
      img.footprint = STATE_ONLY;
      return img;
    },
  },
];
