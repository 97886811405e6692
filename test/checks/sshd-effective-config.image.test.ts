/**
 * sshd_effective_config on a copy of the real Debian 12 image, both Hosts,
 * judged by the image's own `sshd -T`: the stock configuration, then
 * drop-ins that change every key the reference corpus checks.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { getCheck } from "../../src/checks/index.ts";
import { SshdEffectiveConfigParams } from "../../src/checks/sshd-effective-config.ts";
import { allHostPaths, createHost, kernelIoUnavailable } from "../../src/host/index.ts";
import { prerequisite } from "../support/prereq.ts";
import { openSshdJudge, parseSshdT } from "../config/sshd-judge.ts";

const paths = allHostPaths.filter((p) => p !== "kernel-io" || kernelIoUnavailable() === null);
const judge = openSshdJudge();
afterAll(() => judge?.cleanup(), 120_000);

/** Every key the reference corpus checks with sshd_effective_config, and a value to set it to. */
const CORPUS_KEYS: Record<string, string> = {
  clientalivecountmax: "1", compression: "no", disableforwarding: "yes", gssapiauthentication: "yes", hostbasedauthentication: "yes",
  ignorerhosts: "no", ignoreuserknownhosts: "yes", kerberosauthentication: "yes", logingracetime: "1m", loglevel: "verbose",
  maxauthtries: "4", maxstartups: "10:30:60", permitemptypasswords: "yes", permitrootlogin: "prohibit-password", permituserenvironment: "yes",
  printlastlog: "no", pubkeyauthentication: "no", rekeylimit: "1G 1h", strictmodes: "no", usepam: "no", x11forwarding: "no", x11uselocalhost: "no",
};

describe.each(paths)("sshd_effective_config on the Debian 12 image, %s host", (hostPath) => {
  test.skipIf(!prerequisite("the Debian 12 image's sshd (test/support/debian-image.ts)", judge !== null))(
    "sshd-effective-config/AC-07: on the real image every corpus key's verdict agrees with the image's sshd -T, stock and with drop-ins",
    async () => {
      const root = judge!.root;
      const host = createHost({ path: hostPath, root });
      const check = getCheck("sshd_effective_config")!;
      const dropin = join(root, "etc/ssh/sshd_config.d/00-judge.conf");
      for (const phase of ["stock", "drop-in"]) {
        if (phase === "drop-in") writeFileSync(dropin, Object.entries(CORPUS_KEYS).map(([k, val]) => `${k} ${val}`).join("\n") + "\n");
        const printed = parseSshdT(judge!.sshdT("/etc/ssh/sshd_config").stdout);
        for (const key of Object.keys(CORPUS_KEYS)) {
          const want = printed.get(key);
          expect(want).toBeDefined();
          const r = await check.run(host, v.parse(SshdEffectiveConfigParams, { key, expected: want }));
          expect({ key, phase, status: r.status }).toEqual({ key, phase, status: "pass" });
          if (phase === "drop-in") expect(r.detail).toContain("/etc/ssh/sshd_config.d/00-judge.conf:");
        }
      }
      rmSync(dropin, { force: true });
    },
    120_000,
  );
});
