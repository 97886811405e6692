/**
 * service_choice / service_choice_set on copies of the real Debian 12 image,
 * both Host paths, judged by systemd 252's own `systemctl --root=IMG
 * is-enabled`. The image has chrony; the real systemd-timesyncd unit file
 * (this machine's, systemd 252) is added to make "both enabled" and "the
 * other one chosen" real.
 */
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { getMechanism } from "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { copyImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, treeDigest, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { systemctlStates } from "../config/systemd-units-gen.ts";
import { bulwark, buildBinary } from "../cli/helpers.ts";

const TIMESYNCD = "/lib/systemd/system/systemd-timesyncd.service";
const haveSystemctl = Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0;
const ready = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("systemctl (systemd 252)", haveSystemctl)
  && prerequisite(`the real unit file ${TIMESYNCD}`, existsSync(TIMESYNCD));
const SLOW = 300_000;
const UNITS = { chrony: "chrony.service", "systemd-timesyncd": "systemd-timesyncd.service" };

const systemctl = (root: string, ...args: string[]) =>
  Bun.spawnSync(["systemctl", `--root=${root}`, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SYSTEMD_LOG_LEVEL: "err" } });
const judge = (root: string) => {
  const s = systemctlStates(root, Object.values(UNITS));
  return `chrony ${s.get("chrony.service")}, timesyncd ${s.get("systemd-timesyncd.service")}`;
};
/** A copy with systemd-timesyncd's unit installed; ENABLED: which of the two systemctl itself enables. */
function imageWith(enabled: ("chrony" | "systemd-timesyncd")[], installTimesyncd = true): ImageCopy {
  const img = copyImage("debian12");
  if (installTimesyncd) copyFileSync(TIMESYNCD, join(img.root, "usr/lib/systemd/system/systemd-timesyncd.service"));
  systemctl(img.root, "disable", "chrony.service");
  for (const e of enabled) expect(systemctl(img.root, "enable", UNITS[e]).exitCode).toBe(0);
  return img;
}

async function run(hostPath: (typeof allHostPaths)[number], img: ImageCopy, choose: string) {
  const host = createHost({ path: hostPath, root: img.root });
  const m = getMechanism("service_choice_set")!;
  const c = getCheck("service_choice")!;
  const params = v.parse(m.params, { choose, units: UNITS });
  const checkBefore = await c.run(host, v.parse(c.params, { choose, units: UNITS }));
  const pre = await m.capture(host, params);
  v.parse(m.preState(params), pre);
  const rec = new RecordingHost(host, m.footprint(params));
  const applied = await m.apply(rec, params, pre);
  expect(rec.violations).toEqual([]);
  const checkAfter = await c.run(host, v.parse(c.params, { choose, units: UNITS }));
  return { host, m, pre, applied, checkBefore, checkAfter };
}

describe.skipIf(!ready)("service_choice on the Debian 12 image", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    test.each(["chrony", "systemd-timesyncd"])(
      "service-choice/AC-01: both enabled, %s chosen: the check names the other, apply leaves only the chosen one enabled (systemctl --root), rollback is byte-identical",
      async (choose) => {
        const img = imageWith(["chrony", "systemd-timesyncd"]);
        try {
          expect(judge(img.root)).toBe("chrony enabled, timesyncd enabled");
          const before = treeDigest(img.root);
          const other = choose === "chrony" ? "systemd-timesyncd.service" : "chrony.service";
          const r = await run(hostPath, img, choose);
          expect(r.checkBefore.status).toBe("fail");
          expect(r.checkBefore.detail).toContain(`${other} is enabled as well`);
          expect({ ok: r.applied.ok, detail: r.applied.detail }).toEqual({ ok: true, detail: r.applied.detail });
          expect(judge(img.root)).toBe(choose === "chrony" ? "chrony enabled, timesyncd disabled" : "chrony disabled, timesyncd enabled");
          expect(r.checkAfter.status).toBe("pass");
          const back = await r.m.rollback(r.host, r.pre);
          expect({ ok: back.ok, partial: back.partial }).toEqual({ ok: true, partial: false });
          expect(judge(img.root)).toBe("chrony enabled, timesyncd enabled");
          expect(digestDiff(before, treeDigest(img.root))).toEqual([]);
        } finally {
          img.cleanup();
        }
      },
      SLOW,
    );

    test("service-choice/AC-02: neither enabled: the chosen one is enabled; the chosen one not installed: refused, nothing changed", async () => {
      const img = imageWith([]);
      try {
        expect(judge(img.root)).toBe("chrony disabled, timesyncd disabled");
        const before = treeDigest(img.root);
        const r = await run(hostPath, img, "systemd-timesyncd");
        expect(r.checkBefore.detail).toContain("systemd-timesyncd.service (systemd-timesyncd, the chosen one) is disabled, expected enabled");
        expect(r.applied.ok).toBe(true);
        expect(judge(img.root)).toBe("chrony disabled, timesyncd enabled");
        expect((await r.m.rollback(r.host, r.pre)).ok).toBe(true);
        expect(digestDiff(before, treeDigest(img.root))).toEqual([]);
      } finally {
        img.cleanup();
      }
      const bare = imageWith(["chrony"], false);
      try {
        expect(judge(bare.root)).toBe("chrony enabled, timesyncd not-found");
        const before = treeDigest(bare.root);
        const r = await run(hostPath, bare, "systemd-timesyncd");
        expect(r.checkBefore.detail).toContain("systemd-timesyncd.service (systemd-timesyncd, the chosen one) is not installed");
        expect(r.applied).toEqual({ ok: false, detail: "systemd-timesyncd.service (systemd-timesyncd, the chosen one) is not installed: install it first; nothing changed" });
        expect(judge(bare.root)).toBe("chrony enabled, timesyncd not-found");
        expect(digestDiff(before, treeDigest(bare.root))).toEqual([]);
      } finally {
        bare.cleanup();
      }
    }, SLOW);
  });

  test("service-choice/AC-03: a choice that is not one of the units is refused at load; the shipped rule passes on the stock image", () => {
    buildBinary();
    const img = copyImage("debian12");
    try {
      const bad = bulwark(["check", "--root", img.root, "--rule", "time-sync-single-daemon", "--set", "time_sync_daemon=ntpd"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("time-sync-single-daemon");
      expect(bad.stderr).toContain('choose: "ntpd" is not one of chrony, systemd-timesyncd');
      expect(judge(img.root)).toBe("chrony enabled, timesyncd not-found");
      const ok = bulwark(["check", "--root", img.root, "--rule", "time-sync-single-daemon"]);
      expect(ok.stdout).toMatch(/PASS\s+time-sync-single-daemon/);
      expect(ok.code).toBe(0);
    } finally {
      img.cleanup();
    }
  }, SLOW);
});
