/**
 * libpam itself is the judge of config/pam.ts: on seeded random /etc/pam.d
 * trees (continuations across blank and comment lines, `#` comments,
 * `[..]` tokens, CR, bad types and controls, -type lines, include,
 * substack, @include, other, missing includes, a file ending inside a
 * continuation) the modules libpam runs for each type — every module is
 * the stock pam_echo.so, which prints its arguments — are exactly the
 * entries pamStack says run, in order; and libpam refuses to start exactly
 * when pamStack says the service is fatal.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PAM_TYPES, pamStack } from "../../src/config/pam.ts";
import { PAM_ECHO, haveLibpamJudge, libpamStacks } from "../support/libpam-judge.ts";
import { prerequisite } from "../support/prereq.ts";
import { prng, type Prng } from "./prng.ts";

const TREES = 1000;
const have = prerequisite("libpam0g >= 1.4 (pam_start_confdir) and libpam-modules (pam_echo.so)", haveLibpamJudge);

const TYPES = ["auth", "account", "password", "session", "AUTH", "Session", "-auth", "-password"];
const CONTROLS = ["required", "requisite", "optional", "Required", "[success=ok default=bad]", "[success=ok new_authtok_reqd=ok ignore=ignore default=bad]", "[ default=bad success=ok auth_err=2 ]"];
const ARGS = ["x=1", "nullok", "[a b]", "[c\\]d]", "e]f", "minlen=14", "[ab]cd"];

function tree(r: Prng, dir: string): Record<string, string> {
  let tag = 0;
  const sep = () => (r.chance(0.15) ? ` \\\n${r.pick(["", "\n", "# note \\\n", "  "])}${r.pick([" ", "\t"])}` : r.pick([" ", "\t", "  "]));
  const moduleLine = () => {
    const toks = [r.pick(TYPES), r.pick(CONTROLS), r.chance(0.5) ? "pam_echo.so" : PAM_ECHO!, `T${tag++}`];
    for (let i = r.int(4); i > 0; i--) toks.push(r.pick(ARGS));
    return r.pick(["", " ", "\t"]) + toks.map((t, i) => (i ? sep() : "") + t).join("") + r.pick(["", "", " # c", "  ", " \r", " # c \\"]);
  };
  const file = (self: number): string => {
    const lines: string[] = [];
    const inc = () => (self < 3 ? join(dir, `i${self + 1 + r.int(3 - self)}`) : join(dir, "none"));
    for (let n = r.int(8); n > 0; n--) {
      const k = r.int(20);
      if (k < 11) lines.push(moduleLine());
      else if (k === 11) lines.push(r.pick(["# comment", "", "   ", "\r"]));
      else if (k === 12) lines.push(r.pick(["authx required pam_echo.so T", "auth required", "auth", "auth [succes=ok] pam_echo.so T", "password [success=0] pam_echo.so T"]).replace(/ T$/, ` T${tag++}`));
      else if (k <= 17 && self === 3 && r.chance(0.8)) lines.push(moduleLine()); // i3 can only include "none"
      else if (k <= 15) lines.push(`${r.pick(["auth", "account", "password", "session"])} ${r.pick(["include", "substack"])} ${r.chance(0.1) ? join(dir, "none") : inc()}`);
      else if (k <= 17) lines.push(`${r.pick(["@include", "@INCLUDE"])} ${r.chance(0.05) ? join(dir, "none") : inc()}`);
      else lines.push(moduleLine());
    }
    let text = lines.map((l) => l + "\n").join("");
    if (r.chance(0.03)) text += `auth required pam_echo.so T${tag++} \\\n`;
    return text;
  };
  const out: Record<string, string> = { s: file(0) };
  if (r.chance(0.7)) out.other = file(0);
  for (const i of [1, 2, 3]) out[`i${i}`] = file(i);
  return out;
}

describe.skipIf(!have)("pam-config judged by libpam", () => {
  test(`pam-config/AC-10: on ${TREES} seeded random trees, the modules libpam 1.5.2 runs per type are pamStack's running entries, and it refuses to start exactly when pamStack is fatal`, () => {
    const dir = mkdtempSync(join(tmpdir(), "bulwark-pam-judge-"));
    let fatal = 0;
    let undefinedCases = 0;
    let ran = 0;
    try {
      for (let seed = 1; seed <= TREES; seed++) {
        const files = tree(prng(seed), dir);
        for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c, "latin1");
        for (const n of ["other"]) if (!(n in files)) rmSync(join(dir, n), { force: true });
        const model = new Map<string, string>();
        for (const [n, c] of Object.entries(files)) model.set(n === "s" || n === "other" ? `/etc/pam.d/${n}` : join(dir, n), c);
        const judged = libpamStacks(dir, "s");
        const ours = Object.fromEntries(PAM_TYPES.map((t) => [t, pamStack(model, "s", t)]));
        const isFatal = ours.auth!.fatal !== null;
        if (ours.auth!.fatal?.includes("undefined")) {
          undefinedCases++; // libpam reads uninitialised memory there: no verdict to compare
          continue;
        }
        const mine = isFatal ? null : Object.fromEntries(PAM_TYPES.map((t) => [t, ours[t]!.entries.filter((e) => e.runs).map((e) => e.args.join(" "))]));
        if (JSON.stringify(judged) !== JSON.stringify(mine)) {
          throw new Error(`seed ${seed}: libpam ${JSON.stringify(judged)} vs pamStack ${JSON.stringify(mine)} (fatal: ${ours.auth!.fatal})\n${Object.entries(files).map(([n, c]) => `--- ${n}\n${c}`).join("")}`);
        }
        if (isFatal) fatal++;
        ran += mine ? Object.values(mine).flat().length : 0;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The trees exercise both outcomes, and many modules per tree.
    console.log(`pam judge: ${TREES} trees, ${fatal} refused by libpam, ${undefinedCases} with undefined libpam behaviour (skipped), ${ran} module runs compared`);
    expect(fatal).toBeGreaterThan(TREES / 50);
    expect(undefinedCases).toBeLessThan(TREES / 5);
    expect(ran).toBeGreaterThan(TREES * 3);
  }, 120_000);
});
