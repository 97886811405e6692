/**
 * A SIGKILL while dpkg runs: `remediate` of a package_absent rule on a copy
 * of the real Debian 12 image is killed while the image's dpkg is inside the
 * package's prerm (the script marks that it started, then waits for the
 * test), then `recover` runs. Two kills: Bulwark alone (the OOM killer; dpkg
 * carries on and finishes), and Bulwark with every process it started (a
 * power cut of the whole tree: dpkg dies mid-script, its database says so).
 * Judged by dpkg-query and dpkg --audit: in both cases recover reinstalls
 * the captured version from apt's cache and the database is clean.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, buildBinary } from "../cli/helpers.ts";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildDeb, cacheDeb, dpkgInstall, dpkgQuery, localRepo } from "./package-fixtures.ts";

const ready =
  prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) &&
  prerequisite("dpkg-deb and dpkg-scanpackages", Bun.spawnSync(["sh", "-c", "command -v dpkg-deb && command -v dpkg-scanpackages"]).exitCode === 0);

const STARTED = "var/lib/bw-slow-prerm-started";
const RELEASE = "var/lib/bw-slow-release";
/** prerm: say it started, then wait (at most 60 s) for the test to release it. */
const PRERM = `touch /${STARTED}\ni=0\nwhile [ ! -e /${RELEASE} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n`;

/** Every descendant of PID (from /proc), deepest last. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

function bulwark(args: string[]) {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NO_COLOR: "1" }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", out: `exit ${r.status}\n${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!ready)("SIGKILL while dpkg runs (package_absent on the Debian 12 image)", () => {
  let debs: string;
  let deb: string;
  beforeAll(() => {
    buildBinary();
    debs = mkdtempSync(join(tmpdir(), "bulwark-debs-kill-"));
    deb = buildDeb(debs, { name: "bw-slow", version: "1.0-1", conf: "slow\n", prerm: PRERM });
  }, 180_000);
  afterAll(() => debs && rmSync(debs, { recursive: true, force: true }));

  describe.each(["kernel-io", "shell"] as const)("--path %s", (path) => {
    describe.each(["bulwark only", "the whole process tree"] as const)("killing %s", (victims) => {
      let img: ImageCopy;
      beforeAll(() => {
        img = copyImage("debian12");
        localRepo(img.root, [deb]);
        dpkgInstall(img.root, [deb]);
        cacheDeb(img.root, deb);
      }, 300_000);
      afterAll(() => img?.cleanup(), 120_000);

      test(`package-mechanisms/AC-16: killed (${victims}) inside dpkg's prerm, recover reinstalls the captured version (dpkg-query, dpkg --audit clean), a second recover has nothing to do`, async () => {
        const before = dpkgQuery(img.root, "bw-slow");
        expect(before).toBe("bw-slow 1.0-1 all ii");
        const rules = join(img.root, "..", "rules");
        mkdirSync(rules, { recursive: true });
        writeFileSync(join(rules, "r.yml"), JSON.stringify({
          id: "pkg-kill-absent", title: "bw-slow absent", description: "d", rationale: "r", severity: "low", category: "packages",
          implementations: [{ default: true, check: { method: "package_state", name: "bw-slow", state: "absent" }, remediation: { mechanism: "package_absent", name: "bw-slow" } }],
        }));
        const child = Bun.spawn([BIN, "remediate", "--root", img.root, "--path", path, "--rules-dir", rules], {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe",
        });
        const deadline = Date.now() + 120_000;
        while (!existsSync(join(img.root, STARTED)) && Date.now() < deadline && child.exitCode === null) await Bun.sleep(50);
        expect(existsSync(join(img.root, STARTED)), `dpkg's prerm never started (exit ${child.exitCode})`).toBe(true);
        const tree = descendants(child.pid);
        const dpkgRunning = tree.some((p) => { try { return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "dpkg"; } catch { return false; } });
        expect(dpkgRunning, "dpkg is not among the run's processes at the kill").toBe(true);
        process.kill(child.pid, "SIGKILL");
        if (victims === "the whole process tree") for (const p of tree) { try { process.kill(p, "SIGKILL"); } catch { /* already gone */ } }
        await child.exited;
        expect(child.signalCode).toBe("SIGKILL");
        // What survived the kill (dpkg, when only Bulwark died) may finish now.
        writeFileSync(join(img.root, RELEASE), "");
        for (let i = 0; i < 200 && tree.some((p) => existsSync(`/proc/${p}`)); i++) await Bun.sleep(50);
        const afterKill = dpkgQuery(img.root, "bw-slow");

        // Not vacuous: dpkg finished the removal (rc: config files left) or died half-way (rF: half-configured).
        expect(afterKill).toBe(victims === "bulwark only" ? "bw-slow 1.0-1 all rc" : "bw-slow 1.0-1 all rF");

        const rec = bulwark(["recover", "--root", img.root, "--path", path, "--format", "json"]);
        rmSync(join(img.root, RELEASE), { force: true });
        rmSync(join(img.root, STARTED), { force: true });
        // dpkg --install of the captured .deb from apt's cache repairs both states: the package is back as captured.
        expect(rec.code, rec.out).toBe(0);
        expect(JSON.parse(rec.stdout).recovered.map((t: any) => [t.status, t.restore_verified]), rec.out).toEqual([["recovered", true]]);
        expect(dpkgQuery(img.root, "bw-slow"), rec.out).toBe(before);
        expect(readFileSync(join(img.root, "etc/bw-slow.conf"), "utf8")).toBe("slow\n");
        expect(spawnSync("dpkg", [`--admindir=${join(img.root, "var/lib/dpkg")}`, "--audit"], { encoding: "utf8" }).stdout).toBe("");
        const again = bulwark(["recover", "--root", img.root, "--path", path, "--format", "json"]);
        expect(JSON.parse(again.stdout).summary.total, again.out).toBe(0);
      }, 300_000);
    });
  });
});
