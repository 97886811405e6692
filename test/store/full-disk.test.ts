/**
 * A full disk must not lock Bulwark out of its own journal (issue 11.4): an
 * image on a small tmpfs, filled so that remediate runs out of space at 20
 * different points (from "no room for the database" to "room for all but
 * the last commit"), then space is freed, and recover + rollback must bring
 * the image back byte for byte — on both paths, through the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bulwark, buildBinary, imageSnapshot, OS_RELEASE } from "../cli/helpers.ts";
import { prerequisite } from "../support/prereq.ts";
import { canMount, seed, sh } from "../support/sysroot.ts";

const mountable = prerequisite("mount (root with CAP_SYS_ADMIN)", canMount());
const LEVELS = 20;
const RULES = [
  "--rule", "kmod-disable-cramfs",
  "--rule", "kmod-disable-hfs",
  "--rule", "sysctl-net-ipv4-conf-all-send-redirects",
  "--rule", "sysctl-kernel-dmesg-restrict",
];

let mnt = "";
beforeAll(() => {
  buildBinary();
  if (!mountable) return;
  mnt = mkdtempSync(join(tmpdir(), "bulwark-full-"));
  sh(`mount -t tmpfs -o size=2m tmpfs ${mnt}`);
}, 300_000);
afterAll(() => {
  if (!mnt) return;
  sh(`umount ${mnt}`);
  rmSync(mnt, { recursive: true, force: true });
});

const free = () => {
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
function undoAll(base: string[]): string[] {
  const log: string[] = [];
  const rec = bulwark(["recover", ...base]);
  log.push(`recover ${rec.code} ${rec.stdout.trim()} ${rec.stderr.trim()}`);
  for (let i = 0; i < 5; i++) {
    const rb = bulwark(["rollback", ...base, "--last"]);
    log.push(`rollback ${rb.code} ${rb.stderr.trim()}`);
    if (rb.code !== 0) break;
  }
  return log;
}

/** A state database an earlier run left (remediated, then rolled back), made once per path and copied in. */
const templates = new Map<string, string>();
function templateDb(path: string): string {
  let t = templates.get(path);
  if (t) return t;
  const root = join(mnt, `template-${path}`);
  makeImage(root);
  const base = ["--root", root, "--path", path];
  expect(bulwark(["remediate", ...base, "--rule", "kmod-disable-udf"]).code).toBe(0);
  expect(bulwark(["rollback", ...base, "--last"]).code).toBe(0);
  t = join(root, "var/lib/bulwark");
  templates.set(path, t);
  return t;
}

/** An image, optionally with the state database an earlier run left. */
function prepare(root: string, path: string, withDb: boolean): void {
  makeImage(root);
  if (withDb) sh(`cp -a ${templateDb(path)} ${join(root, "var/lib/bulwark")}`);
}

/** Leave exactly `room` bytes free on the tmpfs (page-granular), run remediate, free the space again. */
function remediateWithRoom(root: string, path: string, room: number) {
  const filler = join(mnt, "filler");
  writeFileSync(filler, new Uint8Array(Math.max(0, free() - room)));
  try {
    return bulwark(["remediate", "--root", root, "--path", path, ...RULES]);
  } finally {
    rmSync(filler);
  }
}

/** The least room (in 4 KiB pages) in which the whole run commits: the fill levels spread below it. */
function roomForWholeRun(path: string, withDb: boolean): number {
  let lo = 0;
  let hi = 192; // 768 KiB
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const root = join(mnt, "probe");
    prepare(root, path, withDb);
    const ok = remediateWithRoom(root, path, mid * 4096).code === 0;
    rmSync(root, { recursive: true, force: true });
    if (ok) hi = mid;
    else lo = mid;
  }
  return hi * 4096;
}

describe.each(["kernel-io", "shell"] as const)("full disk on --path %s", (path) => {
  test.skipIf(!mountable)(
    `state-store/AC-06: out of space at ${LEVELS} fill levels, recover + rollback restore the image byte-identically (${path})`,
    () => {
      const outcomes: string[] = [];
      // Half the levels with no state database yet (its creation runs out of space too), half with one.
      for (const withDb of [false, true]) {
        const whole = roomForWholeRun(path, withDb);
        for (let level = 0; level < LEVELS / 2; level++) {
          const root = join(mnt, `img-${level}`);
          prepare(root, path, withDb);
          const image = imageSnapshot(root);
          const room = Math.floor((whole * level) / (LEVELS / 2 - 1)); // 0 .. exactly enough
          const rem = remediateWithRoom(root, path, room);
          const base = ["--root", root, "--path", path];
          const log = undoAll(base);
          const after = imageSnapshot(root);
          const committed = (rem.stdout.match(/^COMMITTED/gm) ?? []).length;
          outcomes.push(`${withDb ? "existing db" : "no db"} room ${room}/${whole}: remediate exit ${rem.code}, ${committed} committed, ${rem.stderr.split("\n")[0]}`);
          if (JSON.stringify(after) !== JSON.stringify(image)) {
            throw new Error(`image not restored (${outcomes.at(-1)}):\nremediate: ${rem.stdout}${rem.stderr}\n${log.join("\n")}\ndiff: ${JSON.stringify(diff(image, after))}`);
          }
          // The state database outlives the full disk: history reads it, no "unusable" anywhere.
          const hist = bulwark(["history", "--root", root]);
          expect({ room, code: hist.code, err: hist.stderr }).toEqual({ room, code: 0, err: "" });
          rmSync(root, { recursive: true, force: true });
        }
      }
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
