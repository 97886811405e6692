/**
 * Hostile images: one builder per attack from issue 10. Each makes, in its
 * own temp directory, an Ubuntu 24.04 sysroot (`image/`) with the attack
 * planted, and a "host canary" (`host/`) outside the image standing in for
 * the host: the target of planted symlinks, whose bytes, modes and mtimes are
 * fingerprinted before and compared after every command.
 *
 * Builders that need a real state database (the crafted-db attacks) run the
 * compiled binary once, untraced, to make a normal one, then tamper with it
 * through bun:sqlite: the attack is a database the image could ship.
 */
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seed } from "../support/sysroot.ts";
import { BIN, OS_RELEASE } from "../cli/helpers.ts";

/** The two rules every attack runs (a module drop-in and a sysctl edit of /etc/sysctl.conf): small, so strace stays fast. */
export const KMOD_RULE = "kmod-disable-cramfs";
export const SYSCTL_RULE = "sysctl-net-ipv4-conf-all-send-redirects";

export type HostPath = "kernel-io" | "shell";
export const COMMANDS = ["check", "plan", "remediate", "rollback", "recover", "history"] as const;
export type Command = (typeof COMMANDS)[number];

export interface HostileImage {
  /** Parent temp dir (image, host canary, traces). */
  dir: string;
  /** The sysroot passed as --root (real path). */
  root: string;
  /** The host canary directory (real path). */
  host: string;
  /** Rule selection / --rules-dir arguments for check, plan and remediate. */
  select: string[];
  /**
   * Image-relative paths the commands may write: exact paths, directories
   * ending in "/", or globs with "*" in the last component. The footprint of
   * the selected rules plus the state directory and its parents.
   */
  footprint: string[];
  cleanup(): void;
}

/** The footprint of KMOD_RULE and SYSCTL_RULE, and Bulwark's state directory (created 0755/0755/0700). */
export const DEFAULT_FOOTPRINT = [
  "var",
  "var/lib",
  "var/lib/bulwark/",
  "etc/modprobe.d/",
  "etc/sysctl.d/",
  "etc/sysctl.conf",
  "etc/.bulwark.*", // shell path: temp file beside /etc/sysctl.conf
  "etc/#*", // kernel-io: O_TMPFILE in /etc, shown by strace -y as "#inode(deleted)"
  "etc/.sysctl.conf.bulwark-*", // kernel-io: the temp name linked beside /etc/sysctl.conf for the exchange
];

/** A base image: os-release, an unrelated modprobe drop-in, a sysctl.conf contradicting SYSCTL_RULE, var/lib. */
export function baseImage(prefix: string, opts: { withVar?: boolean } = {}): HostileImage {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `bulwark-hostile-${prefix}-`)));
  const root = join(dir, "image");
  const host = join(dir, "host");
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(host, { mode: 0o755 });
  chmodSync(root, 0o755);
  seed(root, {
    "etc/os-release": OS_RELEASE,
    "etc/modprobe.d/local.conf": "# local settings\noptions snd_hda_intel power_save=1\n",
    "etc/sysctl.d/10-local.conf": "vm.swappiness = 10\n",
    "etc/sysctl.conf": "# sysctl.conf\nnet.ipv4.conf.all.send_redirects = 1\n",
    "etc/shadow": "root:*:19000:0:99999:7:::\n",
  });
  if (opts.withVar !== false) mkdirSync(join(root, "var/lib"), { recursive: true, mode: 0o755 });
  // The host canary: a file a planted symlink aims at, and a directory with a file in it.
  seed(host, {
    "important.txt": "host data: must never change\n",
    "dir/keep.txt": "host directory content\n",
  });
  return {
    dir,
    root,
    host,
    select: ["--rule", `${KMOD_RULE},${SYSCTL_RULE}`],
    footprint: [...DEFAULT_FOOTPRINT],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- fingerprints

/**
 * Everything under DIR: type, mode, owner, size, mtime and content hash (or
 * link target). Used for the host canary, where even a touched mtime is a
 * finding, and (without mtimes) for the image.
 */
export function fingerprint(dir: string, o: { mtimes?: boolean; skip?: (rel: string) => boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (o.skip?.(r)) continue;
      const full = join(abs, name);
      const st = lstatSync(full);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}` + (o.mtimes ? ` mtime=${st.mtimeMs}` : "");
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${meta}`;
        walk(full, r);
      } else if (st.isFile()) out[r] = `file ${meta} ${st.size} ${createHash("sha256").update(readFileSync(full)).digest("hex")}`;
      else out[r] = `special ${st.isFIFO() ? "fifo" : st.isCharacterDevice() ? "char" : "other"} ${meta} rdev=${st.rdev}`;
    }
  };
  // The directory itself too: a new entry changes its mtime.
  const top = lstatSync(dir);
  out["."] = `dir ${(top.mode & 0o7777).toString(8)}` + (o.mtimes ? ` mtime=${top.mtimeMs}` : "");
  walk(dir, "");
  return out;
}

/** The image without Bulwark's own state directory. */
export const imageFingerprint = (root: string) =>
  fingerprint(root, { skip: (r) => r === "var/lib/bulwark" || r.startsWith("var/lib/bulwark/") });

// ---------------------------------------------------------------- helpers for builders

/** Run the binary untraced (set-up only). Throws when it does not exit with one of OK. */
export function runPlain(args: string[], ok: number[] = [0]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp" } });
  if (!ok.includes(r.status ?? -1)) throw new Error(`set-up: bulwark ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Make a normal state database: remediate KMOD_RULE and the freevxfs rule (two committed transactions). */
function remediateForReal(img: HostileImage, path: HostPath): void {
  runPlain(["remediate", "--root", img.root, "--path", path, "--rule", `${KMOD_RULE},kmod-disable-freevxfs`]);
}

function stateDb(img: HostileImage): string {
  return join(img.root, "var/lib/bulwark/state.db");
}

/** Apply FN to every kernel_module_disable pre-state in the image's state database; optionally leave txn 2 interrupted. */
function tamperPreStates(img: HostileImage, fn: (pre: any, txnId: number) => void, openJournalOn?: number): void {
  const db = new Database(stateDb(img), { readwrite: true });
  try {
    const rows = db.query("SELECT txn_id, idx, pre_state FROM pre_states").all() as { txn_id: number; idx: number; pre_state: string }[];
    for (const r of rows) {
      const pre = JSON.parse(r.pre_state);
      fn(pre, r.txn_id);
      db.query("UPDATE pre_states SET pre_state = ? WHERE txn_id = ? AND idx = ?").run(JSON.stringify(pre), r.txn_id, r.idx);
    }
    if (openJournalOn !== undefined) {
      // As if the run had been killed while applying: recover replays this transaction.
      db.query("UPDATE transactions SET status = 'applying', finished_at = NULL WHERE id = ?").run(openJournalOn);
      db.query("UPDATE journal SET closed_at = NULL WHERE txn_id = ?").run(openJournalOn);
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/**
 * KMOD_RULE and SYSCTL_RULE again, without platforms (so they apply to an
 * image whose OS cannot be read), as a --rules-dir under DIR.
 */
function portableRules(dir: string): string {
  const rulesDir = join(dir, "rules");
  const common = { description: "d", rationale: "r", severity: "low", category: "kernel" };
  const rules = [
    {
      ...common,
      id: KMOD_RULE,
      title: "Keep the cramfs kernel module from loading",
      implementations: [
        {
          default: true,
          check: { method: "kernel_module_state", name: "cramfs", state: "blacklisted" },
          remediation: { mechanism: "kernel_module_disable", name: "cramfs" },
        },
      ],
    },
    {
      ...common,
      id: SYSCTL_RULE,
      title: "Do not send IPv4 ICMP redirects",
      implementations: [
        {
          default: true,
          check: { method: "sysctl_value", key: "net.ipv4.conf.all.send_redirects", expected: "0" },
          remediation: { mechanism: "sysctl_set", key: "net.ipv4.conf.all.send_redirects", value: "0" },
        },
      ],
    },
  ];
  seed(rulesDir, Object.fromEntries(rules.map((r) => [`${r.id}.yml`, JSON.stringify(r, null, 2)])));
  return rulesDir;
}

// ---------------------------------------------------------------- the attacks

export interface Attack {
  /** Short name, used in test titles and temp dir names. */
  name: string;
  /** The hostile-image criterion it proves. */
  criterion: string;
  /** What the attacker does, one line. */
  what: string;
  /** Which commands are run, in this order (each after the previous, on the same image). */
  commands: readonly Command[];
  /** Paths it is run on. */
  paths: readonly HostPath[];
  /** A file the refusal must name (when the command refuses). */
  offending?: string;
  build(path: HostPath): HostileImage;
}

const BOTH: readonly HostPath[] = ["kernel-io", "shell"];
/** Commands of the state-database attacks: read-only ones first; recover before rollback (an open journal blocks rollback). */
const DB_ORDER: readonly Command[] = ["check", "plan", "history", "recover", "rollback", "remediate"];

/** The config-file size the oversize attacks plant, in MiB (issue 10 used 100; 20 keeps CI fast). */
export const BIG_MB = Number(process.env.BULWARK_HOSTILE_BIG_MB ?? 20);

export const ATTACKS: Attack[] = [
  {
    name: "crafted-db-injection",
    criterion: "hostile-image/AC-01",
    what: "state.db pre-states carry shell code in mode/uid/gid; one transaction has an open journal row",
    commands: DB_ORDER,
    paths: BOTH,
    offending: "mode",
    build(path) {
      const img = baseImage("inject");
      remediateForReal(img, path);
      const pwn = (tag: string) => `${join(img.host, `pwned-${tag}`)}`;
      tamperPreStates(
        img,
        (pre) => {
          pre.dropIn.existed = true;
          pre.dropIn.b64 = Buffer.from("install cramfs /bin/true\n").toString("base64");
          pre.dropIn.mode = `644 "$tmp"; id > ${pwn("mode")}; : `;
          pre.dropIn.uid = `0 "$tmp"; id > ${pwn("uid")}; : `;
          pre.dropIn.gid = `0; id > ${pwn("gid")}; : `;
          delete pre.dropIn.parentExisted;
        },
        2,
      );
      return img;
    },
  },
  {
    name: "pre-state-outside-footprint",
    criterion: "hostile-image/AC-02",
    what: "a journaled pre-state names /etc/shadow (outside the step's footprint) with attacker bytes",
    commands: DB_ORDER,
    paths: BOTH,
    offending: "/etc/shadow",
    build(path) {
      const img = baseImage("footprint");
      remediateForReal(img, path);
      tamperPreStates(
        img,
        (pre, txnId) => {
          // Different bytes per transaction, so rollback (after recover) has something to write too.
          pre.dropIn = {
            path: "/etc/shadow",
            existed: true,
            b64: Buffer.from(`root::0:0:99999:7::: txn ${txnId}\n`).toString("base64"),
            mode: 0o644,
            uid: 0,
            gid: 0,
          };
        },
        2,
      );
      return img;
    },
  },
  {
    name: "state-lock-symlink",
    criterion: "hostile-image/AC-03",
    what: "var/lib/bulwark/state.lock is a symlink to a host file",
    commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
    paths: BOTH,
    offending: "state.lock",
    build() {
      const img = baseImage("lock");
      mkdirSync(join(img.root, "var/lib/bulwark"), { mode: 0o700 });
      symlinkSync(join(img.host, "important.txt"), join(img.root, "var/lib/bulwark/state.lock"));
      return img;
    },
  },
  ...(["var", "var/lib", "var/lib/bulwark"] as const).map(
    (link): Attack => ({
      name: `symlink-${link.replaceAll("/", "-")}`,
      criterion: "hostile-image/AC-04",
      what: `${link} is a symlink to a host directory`,
      commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
      paths: BOTH,
      offending: link,
      build() {
        const img = baseImage(`link-${link.replaceAll("/", "-")}`, { withVar: false });
        const parent = link.split("/").slice(0, -1).join("/");
        if (parent) mkdirSync(join(img.root, parent), { recursive: true, mode: 0o755 });
        // var -> host/dir: the state would land in host/dir/lib/bulwark.
        symlinkSync(join(img.host, "dir"), join(img.root, link));
        return img;
      },
    }),
  ),
  {
    name: "state-db-symlink",
    criterion: "hostile-image/AC-05",
    what: "var/lib/bulwark/state.db is a symlink to a Bulwark database on the host",
    commands: ["check", "plan", "history", "remediate", "rollback", "recover"],
    paths: BOTH,
    offending: "state.db",
    build(path) {
      // A real database for the host: made in a scratch image, then moved beside the canary.
      const scratch = baseImage("db-scratch");
      remediateForReal(scratch, path);
      const img = baseImage("dblink");
      mkdirSync(join(img.host, "db"), { mode: 0o700 });
      cpSync(stateDb(scratch), join(img.host, "db/state.db"));
      scratch.cleanup();
      mkdirSync(join(img.root, "var/lib/bulwark"), { mode: 0o700 });
      symlinkSync(join(img.host, "db/state.db"), join(img.root, "var/lib/bulwark/state.db"));
      return img;
    },
  },
  {
    name: "no-var",
    criterion: "hostile-image/AC-06",
    what: "the image has no /var at all",
    commands: ["check", "plan", "remediate", "history", "rollback", "recover"],
    paths: BOTH,
    build() {
      return baseImage("novar", { withVar: false });
    },
  },
  {
    name: "fifo-state-db",
    criterion: "hostile-image/AC-07",
    what: "var/lib/bulwark/state.db is a FIFO",
    commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
    paths: BOTH,
    offending: "state.db",
    build() {
      const img = baseImage("fifo");
      mkdirSync(join(img.root, "var/lib/bulwark"), { mode: 0o700 });
      const r = spawnSync("mkfifo", ["-m", "600", join(img.root, "var/lib/bulwark/state.db")]);
      if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
      return img;
    },
  },
  {
    name: "char-devices",
    criterion: "hostile-image/AC-08",
    what: "etc/sysctl.conf is char device 1:3 and etc/os-release is char device 5:2 (ptmx)",
    commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
    paths: BOTH,
    offending: "sysctl.conf",
    build() {
      const img = baseImage("chardev");
      // os-release unreadable means "unknown OS": the rules must not depend on the platform, or nothing reads sysctl.conf.
      img.select = ["--rules-dir", portableRules(img.dir)];
      for (const [f, maj, min] of [["etc/sysctl.conf", 1, 3], ["etc/os-release", 5, 2]] as const) {
        rmSync(join(img.root, f));
        const r = spawnSync("mknod", ["-m", "644", join(img.root, f), "c", String(maj), String(min)], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`mknod ${f} failed: ${r.stderr}`);
      }
      return img;
    },
  },
  {
    name: "oversize-config",
    criterion: "hostile-image/AC-09",
    what: `a ${BIG_MB} MiB /etc/sysctl.conf and a ${BIG_MB} MiB modprobe.d file`,
    commands: ["check", "plan", "remediate"],
    paths: BOTH,
    offending: "sysctl.conf",
    build() {
      const img = baseImage("big");
      // Plausible content (comments and a real assignment), written in chunks: no big string in the test either.
      const fill = (rel: string, line: string, last: string) => {
        const fd = openSync(join(img.root, rel), "w");
        const chunk = Buffer.from(line.repeat(Math.floor((1 << 20) / line.length)));
        for (let i = 0; i < BIG_MB; i++) writeSync(fd, chunk);
        writeSync(fd, last);
        closeSync(fd);
      };
      fill("etc/sysctl.conf", "# padding padding padding padding padding padding padding\n", "net.ipv4.conf.all.send_redirects = 1\n");
      fill("etc/modprobe.d/big.conf", "options snd_hda_intel power_save=1 # padding padding\n", "install cramfs /bin/true\n");
      return img;
    },
  },
  {
    name: "perms-symlink-target",
    criterion: "hostile-image/AC-13",
    what: "file_permissions targets (/etc/gshadow, and entries of a find selection under /etc/audit) are symlinks to host files",
    commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
    paths: BOTH,
    offending: "/etc/gshadow",
    build() {
      const img = baseImage("perms");
      const rulesDir = join(img.dir, "rules");
      seed(img.root, { "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\nshadow:x:42:\n", "etc/audit/auditd.conf": "x\n" });
      chmodSync(join(img.root, "etc/audit/auditd.conf"), 0o666);
      chmodSync(join(img.host, "important.txt"), 0o666);
      symlinkSync(join(img.host, "important.txt"), join(img.root, "etc/gshadow"));
      symlinkSync(join(img.host, "important.txt"), join(img.root, "etc/audit/audit.rules"));
      symlinkSync(join(img.host, "dir"), join(img.root, "etc/audit/rules.d"));
      const common = { description: "d", rationale: "r", severity: "low", category: "access-control" };
      const rules = [
        {
          ...common,
          id: "perms-hostile-gshadow",
          title: "gshadow 0000 root:shadow",
          implementations: [{ default: true, check: { method: "file_permission", path: "/etc/gshadow", owner: "root", group: "shadow", mode: "0000" }, remediation: { mechanism: "file_permissions", path: "/etc/gshadow", owner: "root", group: "shadow", mode: "0000" } }],
        },
        {
          ...common,
          id: "perms-hostile-audit",
          title: "audit configuration 0640",
          implementations: [{ default: true, check: { method: "file_permission", path: "/etc/audit/auditd.conf", mode: "0640" }, remediation: { mechanism: "file_permissions", find_paths: ["/etc/audit"], find_type: "f", find_args: "-perm /0137", mode: "0640" } }],
        },
      ];
      seed(rulesDir, Object.fromEntries(rules.map((r) => [`${r.id}.yml`, JSON.stringify(r, null, 2)])));
      img.select = ["--rules-dir", rulesDir];
      // The one real file the audit rule may change (chmod); the symlinks and their targets never.
      img.footprint = ["var", "var/lib", "var/lib/bulwark/", "etc/audit/auditd.conf"];
      return img;
    },
  },
  {
    name: "binfmt-misc-key",
    criterion: "hostile-image/AC-10",
    what: "a rule (--rules-dir) sets fs.binfmt_misc.register, which is not a sysctl",
    commands: ["check", "plan", "remediate", "rollback", "recover", "history"],
    paths: BOTH,
    offending: "binfmt_misc",
    build() {
      const img = baseImage("binfmt");
      const rulesDir = join(img.dir, "rules");
      const payload = join(img.root, "payload");
      writeFileSync(payload, "#!/bin/sh\nid\n", { mode: 0o755 });
      const rule = {
        id: "sysctl-hostile-binfmt",
        title: "Register a binfmt interpreter",
        description: "d",
        rationale: "r",
        severity: "low",
        category: "kernel",
        platforms: [{ family: "ubuntu", min_version: "22.04" }],
        implementations: [
          {
            default: true,
            check: { method: "sysctl_value", key: "fs.binfmt_misc.register", expected: `:bulwark-hostile:E::hx::${payload}:` },
            remediation: { mechanism: "sysctl_set", key: "fs.binfmt_misc.register", value: `:bulwark-hostile:E::hx::${payload}:` },
          },
        ],
      };
      seed(rulesDir, { "hostile.yml": JSON.stringify(rule, null, 2) });
      img.select = ["--rules-dir", rulesDir];
      // The footprint of a refused rule is empty: no sysctl.d drop-in for it may appear.
      img.footprint = ["var", "var/lib", "var/lib/bulwark/"];
      return img;
    },
  },
  {
    name: "escape-sequences",
    criterion: "hostile-image/AC-11",
    what: "rule titles and values carry ESC sequences (ESC[2K, cursor up) meant to overwrite a FAIL line",
    commands: ["check", "plan", "remediate", "history", "rollback", "recover"],
    paths: BOTH,
    build() {
      const img = baseImage("esc");
      const rulesDir = join(img.dir, "rules");
      const ESC = "\x1b";
      const base = {
        description: `d ${ESC}[31mred`,
        rationale: "r",
        severity: "low",
        category: "kernel",
        platforms: [{ family: "ubuntu", min_version: "22.04" }],
      };
      const rules = [
        {
          ...base,
          id: "kmod-hostile-esc",
          // No CR or LF (the loader refuses those): ESC alone erases the line and moves the cursor up.
          title: `Innocent${ESC}[2K${ESC}[1APASS  everything-fine  ${ESC}]0;owned${ESC}\\`,
          implementations: [
            {
              default: true,
              check: { method: "kernel_module_state", name: "cramfs", state: "blacklisted" },
              remediation: { mechanism: "kernel_module_disable", name: "cramfs" },
            },
          ],
        },
        {
          ...base,
          id: "sysctl-hostile-esc",
          title: "Value with escapes",
          implementations: [
            {
              default: true,
              check: { method: "sysctl_value", key: "net.ipv4.conf.all.send_redirects", expected: `0${ESC}[2K` },
              remediation: { mechanism: "sysctl_set", key: "net.ipv4.conf.all.send_redirects", value: `0${ESC}[2K` },
            },
          ],
        },
      ];
      seed(rulesDir, Object.fromEntries(rules.map((r) => [`${r.id}.yml`, JSON.stringify(r, null, 2)])));
      img.select = ["--rules-dir", rulesDir];
      return img;
    },
  },
];

/** The shell-path race of issue 10 item 6: built like the others, driven separately (it needs timing). */
export const RACE: Attack = {
  name: "shell-race-modprobe-d",
  criterion: "hostile-image/AC-12",
  what: "etc/modprobe.d is swapped for a symlink to a host directory between mktemp and the write",
  commands: ["remediate"],
  paths: ["shell"],
  build() {
    const img = baseImage("race");
    mkdirSync(join(img.host, "target"), { mode: 0o755 });
    img.select = ["--rule", KMOD_RULE];
    return img;
  },
};
