/**
 * Property test: sshd is the judge. Each round writes a random tree into the
 * judge root's /etc/ssh (its host keys and moduli stay), runs the image's own
 * `sshd -T -f /etc/ssh/sshd_config` by chroot, and compares every modeled
 * keyword's line(s) with evaluateSshd() over the same bytes. A tree sshd
 * refuses must be one evaluateSshd() reports errors for, and vice versa.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { evaluateSshd, modeledSshdKeywords } from "../../src/config/sshd.ts";
import { prerequisite } from "../support/prereq.ts";
import { prng } from "./prng.ts";
import { randomSshdTree } from "./sshd-gen.ts";
import { openSshdJudge, parseSshdT, readTree } from "./sshd-judge.ts";

const ROUNDS = Number(process.env.BULWARK_PROPERTY_TREES ?? 1000);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 2215);

const judge = openSshdJudge();
afterAll(() => judge?.cleanup(), 120_000);

test.skipIf(!prerequisite("the Debian 12 image's sshd (test/support/debian-image.ts) for the sshd -T judge", judge !== null))(
  `sshd-config/AC-12: ${ROUNDS} random sshd_config trees agree with the image's own sshd -T`,
  () => {
    const root = judge!.root;
    const r = prng(SEED);
    const keywords = modeledSshdKeywords();
    const started = performance.now();
    let compared = 0;
    let refused = 0;
    let fromFile = 0;
    for (let t = 0; t < ROUNDS; t++) {
      for (const d of ["etc/ssh/sshd_config.d", "etc/ssh/inc"]) rmSync(join(root, d), { recursive: true, force: true });
      for (const d of ["etc/ssh/sshd_config.d", "etc/ssh/inc/sub"]) mkdirSync(join(root, d), { recursive: true });
      const files = randomSshdTree(r);
      for (const f of files) {
        mkdirSync(dirname(join(root, f.path)), { recursive: true });
        writeFileSync(join(root, f.path), Buffer.from(f.content, "latin1"));
      }
      const ours = evaluateSshd(readTree(root, ["/etc/ssh"]));
      const theirs = judge!.sshdT("/etc/ssh/sshd_config");
      const dump = () =>
        `round ${t} (seed ${SEED}):\n` + files.map((f) => `--- ${f.path}\n${JSON.stringify(f.content)}`).join("\n") + `\nsshd exit ${theirs.code}: ${theirs.stderr.trim()}\nours: ${[...ours.errors, ...ours.testOnlyErrors].join("; ")}`;
      const oursRefused = ours.errors.length + ours.testOnlyErrors.length > 0;
      if ((theirs.code !== 0) !== oursRefused) throw new Error(`acceptance differs\n${dump()}`);
      if (theirs.code !== 0) {
        refused++;
        continue;
      }
      const printed = parseSshdT(theirs.stdout);
      for (const k of keywords) {
        const want = printed.get(k) ?? "";
        const got = ours.values.get(k);
        if (got?.value !== want) throw new Error(`${k}: ours ${JSON.stringify(got?.value)}, sshd ${JSON.stringify(want)}\n${dump()}`);
        compared++;
        if (got.source !== null) fromFile++;
      }
    }
    const ms = performance.now() - started;
    console.log(`sshd -T property: ${ROUNDS} trees (${refused} refused by sshd and by us), ${compared} keyword values compared (${fromFile} set by a file line), ${keywords.length} keywords, ${ms.toFixed(0)} ms`);
    expect(compared).toBeGreaterThan(0);
  },
  1_200_000,
);
