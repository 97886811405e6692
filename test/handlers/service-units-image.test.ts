/**
 * service_masked / service_enabled / service_disabled on copies of the real
 * Debian 12 image, both Host paths, judged by systemd 252 itself:
 * `systemctl --root=IMG is-enabled` agrees with Bulwark on every unit before
 * and after; the links Bulwark makes are the links `systemctl --root` makes
 * on a second copy; rollback leaves the image byte-identical (treeDigest).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import type { Host } from "../../src/host/host.ts";
import { getMechanism } from "../../src/handlers/index.ts";
import { describeUnit } from "../../src/config/systemd-units.ts";
import { gatherUnitTree } from "../../src/checks/unit-gather.ts";
import { copyImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, treeDigest } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { systemctlStates } from "../config/systemd-units-gen.ts";

const haveSystemctl = Bun.spawnSync(["systemctl", "--version"], { stdout: "pipe", stderr: "pipe" }).exitCode === 0;
const ready = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("systemctl (systemd 252)", haveSystemctl);

/** The steps remediated together: masks, an alias's disable, an instance's enable, Also-free units. */
const STEPS: { mechanism: string; params: Record<string, unknown>; verb: string; unit: string }[] = [
  { mechanism: "service_masked", params: { name: "cron" }, verb: "mask", unit: "cron.service" },
  { mechanism: "service_masked", params: { name: "chrony.service" }, verb: "mask", unit: "chrony.service" },
  { mechanism: "service_disabled", params: { name: "rsyslog.service" }, verb: "disable", unit: "rsyslog.service" },
  { mechanism: "service_disabled", params: { name: "ssh.service" }, verb: "disable", unit: "ssh.service" },
  { mechanism: "service_enabled", params: { name: "getty@tty2.service" }, verb: "enable", unit: "getty@tty2.service" },
  { mechanism: "service_enabled", params: { name: "systemd-networkd.service" }, verb: "enable", unit: "systemd-networkd.service" },
  { mechanism: "service_enabled", params: { name: "fstrim.timer" }, verb: "enable", unit: "fstrim.timer" },
];

/** Every unit name the image knows: its unit files, and every link name under /etc/systemd/system. */
function imageUnits(root: string): string[] {
  const names = new Set<string>();
  for (const d of ["usr/lib/systemd/system", "etc/systemd/system"]) {
    const walk = (dir: string, depth: number) => {
      for (const n of readdirSync(dir)) {
        const p = join(dir, n);
        if (lstatSync(p).isDirectory()) {
          if (depth === 0) walk(p, 1);
        } else if (/\.(service|socket|target|timer|path|mount|automount|swap|slice)$/.test(n)) names.add(n);
      }
    };
    walk(join(root, d), 0);
  }
  return [...names].sort();
}

/** Units where Bulwark and systemctl disagree (empty: agreement on every one). */
async function disagreements(host: Host, root: string, units: readonly string[]): Promise<string[]> {
  const judge = systemctlStates(root, units);
  const tree = await gatherUnitTree(host);
  return units.flatMap((u) => {
    const ours = describeUnit(tree, u).state;
    return ours === judge.get(u) ? [] : [`${u}: systemctl ${judge.get(u)}, bulwark ${ours}`];
  });
}

/** Every symlink under ROOT/etc/systemd/system with its target. */
function configLinks(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push(`${rel}${n} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p, `${rel}${n}/`);
    }
  };
  walk(join(root, "etc/systemd/system"), "");
  return out;
}

describe.skipIf(!ready)("service mechanisms on the Debian 12 image", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    test(
      "service-units/AC-01 systemd-units/AC-02: systemctl --root agrees with Bulwark on every unit of the image before and after remediation, makes the same links; rollback is byte-identical",
      async () => {
        const img = copyImage("debian12");
        try {
          const host = createHost({ path: hostPath, root: img.root });
          const units = imageUnits(img.root);
          expect(units.length).toBeGreaterThan(150);
          expect(await disagreements(host, img.root, units)).toEqual([]);
          const before = treeDigest(img.root);
          const pres: { m: ReturnType<typeof getMechanism>; pre: any }[] = [];
          for (const s of STEPS) {
            const m = getMechanism(s.mechanism)!;
            const params = (await import("valibot")).parse(m.params, s.params);
            const pre = await m.capture(host, params);
            (await import("valibot")).parse(m.preState(params), pre);
            const rec = new RecordingHost(host, m.footprint(params));
            const r = await m.apply(rec, params, pre);
            expect({ step: s.unit, ok: r.ok, detail: r.detail }).toEqual({ step: s.unit, ok: true, detail: r.detail });
            expect(rec.violations).toEqual([]);
            pres.push({ m, pre });
          }
          const after = systemctlStates(img.root, STEPS.map((s) => s.unit));
          expect(STEPS.map((s) => `${s.unit} ${after.get(s.unit)}`)).toEqual([
            "cron.service masked", "chrony.service masked", "rsyslog.service disabled", "ssh.service disabled",
            "getty@tty2.service enabled", "systemd-networkd.service enabled", "fstrim.timer enabled",
          ]);
          expect(await disagreements(host, img.root, [...units, "getty@tty2.service"])).toEqual([]);

          // The same verbs through systemctl --root on a second copy leave the same links.
          const twin = copyImage("debian12");
          try {
            for (const s of STEPS) Bun.spawnSync(["systemctl", `--root=${twin.root}`, s.verb, s.unit], { stdout: "pipe", stderr: "pipe" });
            expect(configLinks(img.root)).toEqual(configLinks(twin.root));
          } finally {
            twin.cleanup();
          }

          for (const { m, pre } of pres.reverse()) {
            const r = await m!.rollback(host, pre);
            expect({ ok: r.ok, partial: r.partial, detail: r.detail }).toEqual({ ok: true, partial: false, detail: r.detail });
          }
          expect(digestDiff(before, treeDigest(img.root))).toEqual([]);
          expect(await disagreements(host, img.root, units)).toEqual([]);
        } finally {
          img.cleanup();
        }
      },
      600_000,
    );
  });
});
