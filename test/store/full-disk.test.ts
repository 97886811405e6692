/**
 * A full disk must not lock Bulwark out of its own journal (issue 11.4): an
 * image on a small tmpfs, filled so that remediate runs out of space at 20
 * different points (from "no room for the database" to "room for all but
 * the last commit"), then space is freed, and recover + rollback must bring
 * the image back byte for byte — on both paths, through the compiled binary.
 * Each level is cheap (two rules, one per mechanism) and levels run side by
 * side, each on its own tmpfs: the proof is the same 20 levels per path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, buildBinary, imageSnapshot, OS_RELEASE } from "../cli/helpers.ts";
import { prerequisite } from "../support/prereq.ts";
import { canMount, seed, sh } from "../support/sysroot.ts";

const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const LEVELS = 20;
/** Fill levels run at once, each on its own tmpfs (a filler fills one mount, not its neighbours'). */
const PARALLEL = 4;
// One rule per mechanism, each writing the image (a new modprobe.d drop-in; a sysctl.d drop-in plus a
// neutralised line in sysctl.conf): out of space lands in every kind of write. Two transactions,
// so the top levels still cut between the first commit and the last.
const RULES = ["--rule", "kmod-disable-cramfs", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The compiled binary, asynchronously: levels on separate mounts run side by side. */
async function run(args: string[]): Promise<Result> {
  const p = Bun.spawn([BIN, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** PARALLEL small tmpfs mounts, lent out one job at a time. */
const mounts: string[] = [];
const idle: string[] = [];
const waiting: ((m: string) => void)[] = [];
async function onMount<T>(fn: (mnt: string) => Promise<T>): Promise<T> {
  const mnt = idle.pop() ?? (await new Promise<string>((r) => waiting.push(r)));
  try {
    return await fn(mnt);
  } finally {
    const next = waiting.shift();
    if (next) next(mnt);
    else idle.push(mnt);
  }
}

beforeAll(() => {
  buildBinary();
  if (!mountable) return;
  for (let i = 0; i < PARALLEL; i++) {
    const mnt = mkdtempSync(join(tmpdir(), "bulwark-full-"));
    sh(`mount -t tmpfs -o size=2m tmpfs ${mnt}`);
    mounts.push(mnt);
    idle.push(mnt);
  }
}, 300_000);
afterAll(() => {
  for (const mnt of mounts) {
    if (!mnt.includes("template")) sh(`umount ${mnt}`);
    rmSync(mnt, { recursive: true, force: true });
  }
});

const free = (mnt: string) => {
  const s = statfsSync(mnt);
  return Number(s.bavail) * Number(s.bsize);
};

function makeImage(root: string): void {
  mkdirSync(root);
  seed(root, {
    "etc/os-release": OS_RELEASE,
    "etc/modprobe.d/local.conf": "# local settings\noptions snd_hda_intel power_save=1\n",
    "etc/sysctl.d/10-local.conf": "vm.swappiness = 10\n",
    "etc/sysctl.conf": "# sysctl.conf\nnet.ipv4.conf.all.send_redirects = 1\nkernel.dmesg_restrict = 0\n",
  });
  mkdirSync(join(root, "var/lib"), { recursive: true });
}

/** Undo everything: recover an interrupted run, then roll back every run with committed transactions. */
async function undoAll(base: string[]): Promise<string[]> {
  const log: string[] = [];
  const rec = await run(["recover", ...base]);
  log.push(`recover ${rec.code} ${rec.stdout.trim()} ${rec.stderr.trim()}`);
  for (let i = 0; i < 5; i++) {
    const rb = await run(["rollback", ...base, "--last"]);
    log.push(`rollback ${rb.code} ${rb.stderr.trim()}`);
    if (rb.code !== 0) break;
  }
  return log;
}

/** A state database an earlier run left (remediated, then rolled back), made once per path and copied in. */
const templates = new Map<string, Promise<string>>();
function templateDb(path: string): Promise<string> {
  let t = templates.get(path);
  if (!t) {
    t = (async () => {
      const dir = mkdtempSync(join(tmpdir(), "bulwark-full-template-"));
      mounts.push(dir); // removed with the mounts (umount of a plain directory is skipped)
      const root = join(dir, "img");
      makeImage(root);
      const base = ["--root", root, "--path", path];
      expect((await run(["remediate", ...base, "--rule", "kmod-disable-udf"])).code).toBe(0);
      expect((await run(["rollback", ...base, "--last"])).code).toBe(0);
      return join(root, "var/lib/bulwark");
    })();
    templates.set(path, t);
  }
  return t;
}

/** An image on MNT, optionally with the state database an earlier run left. */
async function prepare(root: string, path: string, withDb: boolean): Promise<void> {
  makeImage(root);
  if (withDb) sh(`cp -a ${await templateDb(path)} ${join(root, "var/lib/bulwark")}`);
}

/** Leave exactly `room` bytes free on MNT (page-granular), run remediate, free the space again. */
async function remediateWithRoom(mnt: string, root: string, path: string, room: number): Promise<Result> {
  const filler = join(mnt, "filler");
  writeFileSync(filler, new Uint8Array(Math.max(0, free(mnt) - room)));
  try {
    return await run(["remediate", "--root", root, "--path", path, ...RULES]);
  } finally {
    rmSync(filler);
  }
}

/** Does the whole run commit in `pages` 4 KiB pages of room? */
function commitsIn(path: string, withDb: boolean, pages: number): Promise<boolean> {
  return onMount(async (mnt) => {
    const root = join(mnt, "probe");
    try {
      await prepare(root, path, withDb);
      return (await remediateWithRoom(mnt, root, path, pages * 4096)).code === 0;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

/**
 * The least room (in bytes, whole pages) in which the whole run commits: the
 * fill levels spread below it. A search with PARALLEL probes per round on
 * separate mounts: each round narrows the range PARALLEL + 1 times.
 */
async function roomForWholeRun(path: string, withDb: boolean): Promise<number> {
  let lo = 0; // fails
  let hi = 192; // 768 KiB: commits
  while (hi - lo > 1) {
    const step = (hi - lo) / (PARALLEL + 1);
    const probes = [...new Set(Array.from({ length: PARALLEL }, (_, i) => Math.round(lo + step * (i + 1))))].filter((p) => p > lo && p < hi);
    const ok = await Promise.all(probes.map((p) => commitsIn(path, withDb, p)));
    // Monotone in room: the first probe that commits bounds from above, the one before it from below.
    const first = ok.indexOf(true);
    if (first === -1) lo = probes.at(-1)!;
    else {
      hi = probes[first]!;
      if (first > 0) lo = probes[first - 1]!;
    }
  }
  return hi * 4096;
}

/** One fill level: remediate with ROOM bytes free, free the space, undo everything; the image must be byte-identical. */
function level(path: string, withDb: boolean, n: number, room: number, whole: number): Promise<string> {
  return onMount(async (mnt) => {
    const root = join(mnt, `img-${n}`);
    try {
      await prepare(root, path, withDb);
      const image = imageSnapshot(root);
      const rem = await remediateWithRoom(mnt, root, path, room);
      const base = ["--root", root, "--path", path];
      const log = await undoAll(base);
      const after = imageSnapshot(root);
      const committed = (rem.stdout.match(/^COMMITTED/gm) ?? []).length;
      const outcome = `${withDb ? "existing db" : "no db"} room ${room}/${whole}: remediate exit ${rem.code}, ${committed} committed, ${rem.stderr.split("\n")[0]}`;
      if (JSON.stringify(after) !== JSON.stringify(image)) {
        throw new Error(`image not restored (${outcome}):\nremediate: ${rem.stdout}${rem.stderr}\n${log.join("\n")}\ndiff: ${JSON.stringify(diff(image, after))}`);
      }
      // The state database outlives the full disk: history reads it, no "unusable" anywhere.
      const hist = await run(["history", "--root", root]);
      expect({ room, code: hist.code, err: hist.stderr }).toEqual({ room, code: 0, err: "" });
      return outcome;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

/**
 * The room for level N of LEVELS/2: the first six spread from 0 (no room for
 * the database) up the range, the last four at the top edge — 4, 2 and 1
 * pages short of enough (out of space in the last commit's writes) and
 * exactly enough (everything commits).
 */
function roomAt(n: number, whole: number): number {
  const spread = LEVELS / 2 - 4;
  if (n < spread) return Math.floor((whole * n) / spread);
  return Math.max(0, whole - [4, 2, 1, 0][n - spread]! * 4096);
}

describe.each(["kernel-io", "shell"] as const)("full disk on --path %s", (path) => {
  test.skipIf(!mountable)(
    `state-store/AC-06: out of space at ${LEVELS} fill levels, recover + rollback restore the image byte-identically (${path})`,
    async () => {
      // Half the levels with no state database yet (its creation runs out of space too), half with one.
      const wholes = await Promise.all([false, true].map((withDb) => roomForWholeRun(path, withDb)));
      const outcomes = await Promise.all(
        [false, true].flatMap((withDb, d) =>
          Array.from({ length: LEVELS / 2 }, (_, n) => {
            const whole = wholes[d]!;
            return level(path, withDb, d * LEVELS + n, roomAt(n, whole), whole);
          }),
        ),
      );
      expect(outcomes.length).toBe(LEVELS);
      if (process.env.BULWARK_TEST_TIMINGS) console.error(outcomes.join("\n"));
    },
    900_000,
  );
});

function diff(a: Record<string, string>, b: Record<string, string>): Record<string, [string?, string?]> {
  const out: Record<string, [string?, string?]> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) out[k] = [a[k], b[k]];
  return out;
}
