/**
 * config_set_dropin on the real Debian 12 root (test/support/debian-image.ts):
 * the image's own sshd and visudo, run in chroot, judge the files written, and
 * rollback leaves the image byte-identical (content, mode, owner of every file).
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { allHostPaths, createHost, type HostPath } from "../../src/host/index.ts";
import { configSetDropin as m, ConfigSetDropinParams } from "../../src/handlers/config-set-dropin.ts";
import { copyImage, imageAvailable, imageJudge, parseSshdT, treeDigest, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";

const haveImage = prerequisite("the cached Debian 12 test image (mmdebstrap)", imageAvailable());
const params = (p: Record<string, unknown>) => v.parse(ConfigSetDropinParams, p);
const STEPS = [
  params({ dir: "/etc/sudoers.d", file: "00-bulwark-use-pty", key: "Defaults", value: "use_pty", separator: " " }),
  params({ dir: "/etc/sudoers.d", file: "00-bulwark-logfile", key: "Defaults", value: 'logfile="/var/log/sudo.log"', separator: " " }),
  params({ dir: "/etc/ssh/sshd_config.d", file: "00-bulwark-root-login.conf", key: "PermitRootLogin", value: "no", reload: "sshd" }),
  params({ dir: "/etc/ssh/sshd_config.d", file: "00-bulwark-max-auth-tries.conf", key: "MaxAuthTries", value: "4", reload: "sshd" }),
  params({ dir: "/etc/systemd/journald.conf.d", file: "00-bulwark-forward.conf", key: "ForwardToSyslog", value: "yes", section: "[Journal]" }),
];

describe.skipIf(!haveImage).each(allHostPaths)("config_set_dropin on the Debian 12 image, %s host", (hostPath: HostPath) => {
  let img: ImageCopy | undefined;
  afterEach(() => img?.cleanup());

  test("config-set-dropin/AC-18: visudo -c (whole /etc/sudoers with its @includedir) and sshd -t accept the result, sshd -T shows the values, rollback leaves the image byte-identical", async () => {
    img = copyImage("debian12"); // in the test, not a hook: copying a root file system outlasts a hook's 5 s here
    const before = treeDigest(img.root);
    const host = createHost({ path: hostPath, root: img.root });
    const pres = [];
    for (const p of STEPS) {
      const pre = await m.capture(host, p);
      const res = await m.apply(host, p, pre);
      expect({ file: p.file, ok: res.ok, detail: res.detail }).toEqual({ file: p.file, ok: true, detail: expect.any(String) });
      pres.push(pre);
    }
    const judge = imageJudge(img.root);
    const sudo = judge.visudoC();
    expect({ code: sudo.code, out: sudo.stdout + sudo.stderr }).toEqual({ code: 0, out: expect.stringContaining("/etc/sudoers.d/00-bulwark-use-pty: parsed OK") });
    expect(judge.sshdt().code).toBe(0);
    const t = judge.sshdT();
    if (t.code === 0) {
      const eff = parseSshdT(t.stdout);
      expect([eff.get("permitrootlogin"), eff.get("maxauthtries")]).toEqual(["no", "4"]);
    }
    for (const pre of pres.reverse()) expect((await m.rollback(host, pre)).ok).toBe(true);
    expect(treeDigest(img.root)).toEqual(before);
  }, 300_000);
});
