/**
 * The PAM mechanisms on a real Debian 12 root (mmdebstrap, libpam-pwquality
 * installed): every pam_module_arg / pam_module_configure remediation of the
 * reference corpus, in corpus order, on both Host paths; then rollback in
 * reverse leaves the image byte-identical (content, mode, owner).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import { PAM_TYPES, pamStack } from "../../src/config/pam.ts";
import { gatherPam } from "../../src/checks/pam-files.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { allHostPaths, createHost, type HostPath } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { copyImage, digestDiff, IMAGE_PREREQUISITE, imageToolsPresent, treeDigest, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

setDefaultTimeout(180_000); // an image copy and the shell path's forks on a shared machine

const have = prerequisite(IMAGE_PREREQUISITE, haveKensaFull && imageToolsPresent());

/** The corpus's PAM steps, in file order: [rule id, mechanism, params]. */
function corpusSteps(): [string, string, Record<string, unknown>][] {
  const res = loadRulesFromPath(join(KENSA_FULL_DIR, "access-control"), { lookup: testLookup });
  return res.rules
    .filter((r) => r.id.startsWith("pam-"))
    .flatMap((r) => r.implementations.flatMap((i) => i.steps).filter((s) => s.mechanism.startsWith("pam_module_")).map((s) => [r.id, s.mechanism, s.params] as [string, string, Record<string, unknown>]));
}

describe.skipIf(!have).each(allHostPaths)("PAM corpus remediations on the Debian 12 image, %s host", (hostPath: HostPath) => {
  let img: ImageCopy;
  beforeAll(() => (img = copyImage("debian12")));
  afterAll(() => img?.cleanup());

  test("pam-module/AC-12: all 15 corpus PAM steps apply or say why not; every service's stack still loads with no failing line; rollback leaves the image byte-identical", async () => {
    const host = createHost({ path: hostPath, root: img.root });
    const etc = (r: string) => !(r === "etc" || r.startsWith("etc/"));
    const before = treeDigest(img.root, etc);
    const done: { m: string; pre: unknown }[] = [];
    const outcome: string[] = [];
    const steps = corpusSteps();
    expect(steps.length).toBe(15);
    for (const [id, name, params] of steps) {
      const m = getMechanism(name)!;
      const p = v.parse(m.params, params);
      const pre = await m.capture(host, p);
      expect(v.safeParse(m.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
      const rec = new RecordingHost(host, m.footprint(p));
      const res = await m.apply(rec, p, pre);
      expect(rec.violations).toEqual([]);
      outcome.push(`${id}: ${res.ok ? "ok" : "refused"}: ${res.detail}`);
      expect(res.ok).toBe(true);
      done.push({ m: name, pre });
    }
    // What the corpus asked for is what libpam now runs (our model, judged against libpam in pam.property.test.ts).
    const files = await gatherPam(host);
    for (const svc of [...files.keys()].map((f) => f.slice(f.lastIndexOf("/") + 1))) {
      for (const t of PAM_TYPES) {
        const s = pamStack(files, svc, t);
        expect(s.fatal).toBeNull();
        expect(s.entries.filter((e) => e.bad !== null)).toEqual([]);
      }
    }
    const check = getCheck("pam_module_arg")!;
    const verdict = async (p: Record<string, unknown>) => (await check.run(host, v.parse(check.params, p))).status;
    expect(await verdict({ service: "login", type: "auth", module: "pam_faillock.so", arg: "preauth", control: "required" })).toBe("pass");
    expect(await verdict({ service: "sshd", type: "auth", module: "pam_unix.so", arg: "nullok", state: "absent" })).toBe("pass");
    expect(await verdict({ service: "passwd", type: "password", module: "pam_unix.so", arg: "sha512" })).toBe("pass");
    expect(await verdict({ service: "passwd", type: "password", module: "pam_pwhistory.so", arg: "use_authtok" })).toBe("pass");
    expect(await verdict({ service: "passwd", type: "password", module: "pam_pwquality.so", arg: "local_users_only" })).toBe("pass");
    expect(await verdict({ service: "su", type: "auth", module: "pam_wheel.so", arg: "use_uid" })).toBe("pass");
    expect(readFileSync(join(img.root, "etc/pam.d/common-password"), "latin1")).toContain("pam_pwhistory.so use_authtok\npassword\t[success=1");

    for (const d of [...done].reverse()) {
      const r = await getMechanism(d.m)!.rollback(host, d.pre);
      expect(r).toMatchObject({ ok: true, partial: false });
    }
    expect(digestDiff(before, treeDigest(img.root, etc))).toEqual([]);
    console.log(`pam image (${hostPath}):\n  ${outcome.join("\n  ")}`);
  });
});
