/**
 * Property test: config/systemd-sysctl.ts against the real systemd-sysctl
 * (systemd 252 here), which cannot be pointed at a root.
 *
 * Isolation, so it never touches this machine's kernel or configuration:
 * everything runs inside `unshare -m --propagation private`, where
 * - a tmpfs is mounted over /proc/sys, holding a regular file per key we ask
 *   about (the real kernel's keys are not there at all);
 * - each random tree's directories are bind-mounted over /etc/sysctl.d,
 *   /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d (= /lib/sysctl.d
 *   on this merged-/usr machine) and its sysctl.conf over /etc/sysctl.conf;
 *   /run and /usr/local/lib are tmpfs first, so no directory is created on the
 *   real file system.
 * The script checks, before any systemd-sysctl run, that /proc/sys is the
 * tmpfs (statfs type, and the real `kernel/ostype` is absent), and then that
 * systemd-sysctl itself writes into it: a probe key that exists only in the
 * tmpfs (`kernel/bulwark_probe`, unknown to any kernel, so even a failed
 * isolation could write nothing) must read back as written. Any failed check
 * exits before the random trees run.
 *
 * Per tree the key files are reset to a sentinel, systemd-sysctl runs, and the
 * first line of each key file is compared with effectiveSystemdSysctl(): the
 * value, or "not written" (sentinel) when the model says null. systemd opens
 * the files O_WRONLY without O_TRUNC, so only the first line is meaningful.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { effectiveSystemdSysctl, evaluateSystemdSysctl } from "../../src/config/systemd-sysctl.ts";
import type { ConfDir } from "../../src/config/modprobe.ts";
import { prng, type Prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 1000);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 252);
const SYSTEMD_SYSCTL = ["/lib/systemd/systemd-sysctl", "/usr/lib/systemd/systemd-sysctl"].find((p) => existsSync(p)) ?? null;
const UNSHARE = Bun.which("unshare");
const canRun = SYSTEMD_SYSCTL !== null && UNSHARE !== null && process.getuid?.() === 0;

/** Keys in path form, created as files in the tmpfs. */
const KEYS = [
  "net/ipv4/conf/all/rp_filter",
  "net/ipv4/conf/default/rp_filter",
  "net/ipv4/conf/lo/rp_filter",
  "net/ipv4/conf/eth0.100/rp_filter",
  "net/ipv4/conf/.x/rp_filter",
  "net/ipv4/conf/all/accept_source_route",
  "net/ipv4/conf/default/accept_source_route",
  "net/ipv4/ip_forward",
  "kernel/randomize_va_space",
  "vm/swappiness",
];
const SPELLINGS: Record<string, string[]> = {
  "net/ipv4/conf/eth0.100/rp_filter": ["net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"],
  "net/ipv4/conf/.x/rp_filter": ["net/ipv4/conf/.x/rp_filter", "net.ipv4.conf./x.rp_filter"],
  "net/ipv4/ip_forward": ["net.ipv4.ip_forward", "net/ipv4/ip_forward", "/net/ipv4/ip_forward", "net.ipv4..ip_forward", "net/ipv4//ip_forward/"],
};
const GLOBS = [
  "net.ipv4.conf.*.rp_filter",
  "net/ipv4/conf/*/rp_filter",
  "net.ipv4.conf.[ad]*.rp_filter",
  "net.ipv4.conf.[!a]*.rp_filter",
  "net.ipv4.conf.?o.rp_filter",
  "net.ipv4.conf.*.accept_source_route",
  "net.ipv4.conf.e*.rp_filter",
  "kernel.*",
  "vm.swap?iness",
  "net.ipv4.conf.*",
];
const VALUES = ["0", "1", "2", " 1 ", "3 4", "x=y", "5 # c", "", "a;b", "\t7\t"];
const DIRS = ["etc", "run", "usrlocal", "usrlib"] as const;
const LOGICAL: Record<(typeof DIRS)[number], string> = { etc: "/etc/sysctl.d", run: "/run/sysctl.d", usrlocal: "/usr/local/lib/sysctl.d", usrlib: "/usr/lib/sysctl.d" };
const NAMES = ["00-a.conf", "10-network-security.conf", "50-default.conf", "99-bulwark-x.conf", "99-local.conf", ".hidden.conf", "z.conf", "a.conf.bak", "README"];
const SENTINEL = "@unset@";

const base = mkdtempSync(join(tmpdir(), "bulwark-systemd-sysctl-prop-"));
// 1,000 trees take a while to remove on a loaded machine: give the hook room.
afterAll(() => rmSync(base, { recursive: true, force: true }), 300_000);

function spell(r: Prng, path: string): string {
  const extra = SPELLINGS[path];
  if (extra && r.chance(0.5)) return r.pick(extra);
  return r.chance(0.5) ? path.replaceAll("/", ".") : path;
}

function randomLine(r: Prng): string {
  const ws = () => r.pick(["", " ", "  ", "\t"]);
  const key = r.chance(0.25) ? r.pick(GLOBS) : spell(r, r.pick(KEYS));
  switch (r.int(10)) {
    case 0:
      return `-${key}${ws()}`;
    case 1:
      return r.pick(["# net.ipv4.ip_forward = 1", "; kernel.x = 1", "", "   # indented", "no equals here", "=1"]);
    case 2:
      return `-${key}${ws()}=${ws()}${r.pick(VALUES)}`;
    case 3:
      return `${ws()}${key}${ws()}=${ws()}${r.pick(VALUES)}${r.pick(["", " ", "\t", " # trailing comment"])}`;
    default:
      return `${key}${ws()}=${ws()}${r.pick(VALUES)}`;
  }
}

function randomContent(r: Prng): string {
  const lines = Array.from({ length: r.int(7) }, () => randomLine(r));
  return lines.join(r.chance(0.15) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : "");
}

interface Tree {
  dirs: Record<(typeof DIRS)[number], Map<string, { content: string; link?: string }>>;
  sysctlConf: string;
}

function randomTree(r: Prng): Tree {
  const dirs = {} as Tree["dirs"];
  for (const d of DIRS) {
    const files = new Map<string, { content: string; link?: string }>();
    if (r.chance(0.7)) for (let i = r.int(4); i > 0; i--) files.set(r.pick(NAMES), r.chance(0.06) ? { content: "", link: "/dev/null" } : { content: randomContent(r) });
    dirs[d] = files;
  }
  const sysctlConf = r.chance(0.6) ? randomContent(r) : "";
  // Debian's link: systemd reads /etc/sysctl.conf only through it.
  if (r.chance(0.6)) dirs.etc.set("99-sysctl.conf", { content: sysctlConf, link: "../sysctl.conf" });
  return { dirs, sysctlConf };
}

function write(tree: Tree, root: string): void {
  for (const d of DIRS) {
    mkdirSync(join(root, d), { recursive: true });
    for (const [name, f] of tree.dirs[d]) {
      if (f.link) symlinkSync(f.link, join(root, d, name));
      else writeFileSync(join(root, d, name), Buffer.from(f.content, "latin1"));
    }
  }
  writeFileSync(join(root, "sysctl.conf"), Buffer.from(tree.sysctlConf, "latin1"));
}

function model(tree: Tree): (string | null)[] {
  const dirs: ConfDir[] = DIRS.map((d) => ({ path: LOGICAL[d], files: [...tree.dirs[d]].map(([name, f]) => ({ name, content: f.content })) }));
  const cfg = evaluateSystemdSysctl(dirs);
  return KEYS.map((k) => effectiveSystemdSysctl(cfg, k).value);
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The namespace script: isolation checks first (exit codes 90-95), then one systemd-sysctl run per tree. */
function script(trees: number): string {
  const keyDirs = [...new Set(KEYS.map((k) => k.slice(0, k.lastIndexOf("/"))))];
  return [
    "set -eu",
    "mount -t tmpfs -o size=4m,mode=0755 bulwark-sysctl-judge /proc/sys || exit 90",
    '[ "$(stat -f -c %T /proc/sys)" = tmpfs ] || exit 91',
    "[ ! -e /proc/sys/kernel/ostype ] || exit 92",
    `mkdir -p ${keyDirs.map((d) => q(`/proc/sys/${d}`)).join(" ")} /proc/sys/kernel`,
    `printf '0\\n' > /proc/sys/kernel/bulwark_probe`,
    `printf 'kernel.bulwark_probe = 7\\n' > ${q(join(base, "probe.conf"))}`,
    `SYSTEMD_LOG_LEVEL=err ${q(SYSTEMD_SYSCTL!)} ${q(join(base, "probe.conf"))} >/dev/null 2>&1 || exit 93`,
    `read -r probe < /proc/sys/kernel/bulwark_probe; [ "$probe" = 7 ] || exit 94`,
    "mount -t tmpfs -o size=1m bulwark-run /run && mkdir /run/sysctl.d",
    "mount -t tmpfs -o size=1m bulwark-usrlocal /usr/local/lib && mkdir /usr/local/lib/sysctl.d",
    "unset CREDENTIALS_DIRECTORY",
    `i=0; while [ $i -lt ${trees} ]; do`,
    `  t=${q(base)}/t$i`,
    `  mount --bind "$t/etc" /etc/sysctl.d; mount --bind "$t/run" /run/sysctl.d; mount --bind "$t/usrlocal" /usr/local/lib/sysctl.d`,
    `  mount --bind "$t/usrlib" /usr/lib/sysctl.d; mount --bind "$t/sysctl.conf" /etc/sysctl.conf`,
    ...KEYS.map((k) => `  printf '%s\\n' ${SENTINEL} > ${q(`/proc/sys/${k}`)}`),
    `  SYSTEMD_LOG_LEVEL=emerg ${q(SYSTEMD_SYSCTL!)} >/dev/null 2>&1 || true`,
    `  echo "== $i"`,
    ...KEYS.map((k) => `  IFS= read -r v < ${q(`/proc/sys/${k}`)} || true; printf '%s\\n' "$v"`),
    "  umount /etc/sysctl.conf /usr/lib/sysctl.d /usr/local/lib/sysctl.d /run/sysctl.d /etc/sysctl.d",
    "  i=$((i+1))",
    "done",
  ].join("\n");
}

test.skipIf(!prerequisite("systemd-sysctl, unshare and root (mount namespace)", canRun))(
  `systemd-sysctl/AC-09: ${TREES} random trees agree with the real systemd-sysctl, run against a tmpfs /proc/sys`,
  () => {
    const r = prng(SEED);
    const trees: Tree[] = [];
    for (let t = 0; t < TREES; t++) {
      const tree = randomTree(r);
      write(tree, join(base, `t${t}`));
      trees.push(tree);
    }
    const started = performance.now();
    const out = Bun.spawnSync([UNSHARE!, "-m", "--propagation", "private", "sh", "-c", script(TREES)], { stdout: "pipe", stderr: "pipe" });
    const ms = performance.now() - started;
    if (out.exitCode !== 0) throw new Error(`isolation or run failed (exit ${out.exitCode}): ${Buffer.from(out.stderr).toString()}`);
    const blocks = Buffer.from(out.stdout).toString("latin1").split(/^== \d+\n/m).slice(1);
    expect(blocks.length).toBe(TREES);
    let written = 0;
    blocks.forEach((block, t) => {
      const theirs = block.split("\n").slice(0, KEYS.length).map((v) => (v === SENTINEL ? null : v));
      const ours = model(trees[t]!);
      written += theirs.filter((v) => v !== null).length;
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        throw new Error(`tree ${t} (seed ${SEED}) at ${join(base, `t${t}`)} disagrees:\nkeys:    ${JSON.stringify(KEYS)}\nours:    ${JSON.stringify(ours)}\nsystemd: ${JSON.stringify(theirs)}`);
      }
    });
    console.log(`systemd-sysctl property: ${TREES} trees, ${TREES * KEYS.length} key verdicts (${written} written), ${ms.toFixed(0)} ms in the namespace`);
  },
  900_000,
);
