/**
 * The PAM edits judged by libpam: on seeded random service files (every
 * module pam_echo.so, so libpam's run prints each line's arguments),
 * pam_module_arg ensures or removes an argument; libpam must then run
 * exactly the lines it ran before, each with the arguments the edit meant
 * (argsAfter) — or the step refused and the file is unchanged.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import "../../src/handlers/index.ts";
import { PAM_TYPES, pamModuleName, pamStack, type PamType } from "../../src/config/pam.ts";
import { argOp, pamModuleArg } from "../../src/handlers/pam-module-arg.ts";
import { argsAfter } from "../../src/handlers/pam-module-edit.ts";
import { allHostPaths, type HostPath } from "../../src/host/index.ts";
import { haveLibpamJudge, libpamStacks } from "../support/libpam-judge.ts";
import { prerequisite } from "../support/prereq.ts";
import { prng, type Prng } from "../config/prng.ts";
import { sysrootHost } from "./support.ts";

setDefaultTimeout(300_000);
const have = prerequisite("libpam0g >= 1.4 (pam_start_confdir) and libpam-modules (pam_echo.so)", haveLibpamJudge);
// The shell path forks per file operation: fewer trees there, the same generator.
const TREES: Record<HostPath, number> = { "kernel-io": 300, shell: 30 };

const ARGS = ["x=1", "nullok", "[a b]", "minlen=8", "[c\\]d]", "minlen=12", "retry=3"];
const OPS = [
  { action: "ensure", arg: "minlen=14" }, { action: "ensure", arg: "nullok" }, { action: "ensure", arg: "a b" },
  { action: "remove", arg: "nullok" }, { action: "remove", arg: "minlen" }, { action: "remove", arg: "a b" },
  { action: "remove", arg: "minlen=[0-9]+", arg_regex: true }, { action: "ensure", arg: "c]d" },
];

function service(r: Prng): string {
  const lines: string[] = [];
  let tag = 0;
  for (let n = 1 + r.int(7); n > 0; n--) {
    const k = r.int(10);
    if (k === 0) lines.push(r.pick(["# comment", "", "  \t"]));
    else if (k === 1) lines.push(`auth required pam_permit.so T${tag++}`); // not the module edited
    else {
      const args = [`T${tag++}`, ...Array.from({ length: r.int(4) }, () => r.pick(ARGS))];
      const ws = () => r.pick([" ", "\t", "  ", "\t\t"]);
      lines.push(`${r.pick(["", " "])}${r.pick(PAM_TYPES)}${ws()}${r.pick(["required", "[success=ok default=bad]", "optional"])}${ws()}pam_echo.so${args.map((a) => ws() + a).join("")}${r.pick(["", " # note", "  "])}`);
    }
  }
  return lines.map((l) => l + "\n").join("");
}

describe.skipIf(!have).each(allHostPaths)("pam_module_arg judged by libpam, %s host", (hostPath: HostPath) => {
  let s: ReturnType<typeof sysrootHost>;
  beforeAll(() => (s = sysrootHost(hostPath, ["etc/pam.d"])));
  afterAll(() => s.cleanup());

  test(`pam-module/AC-13: on seeded random services, after pam_module_arg libpam runs the same lines with exactly the intended arguments, or the step refused and the file is unchanged`, async () => {
    const dir = join(s.root, "etc/pam.d");
    let edited = 0;
    let refused = 0;
    for (let seed = 1; seed <= TREES[hostPath]; seed++) {
      const r = prng(seed);
      const text = service(r).replaceAll("pam_permit.so", "pam_echo.so.permit"); // a line libpam cannot load: it never prints
      writeFileSync(join(dir, "s"), text);
      const raw = { ...r.pick(OPS), module: "pam_echo.so", files: ["/etc/pam.d/s"], ...(r.chance(0.5) ? { type: r.pick(PAM_TYPES) } : {}) };
      const p = v.parse(pamModuleArg.params, raw);
      const op = argOp(p);
      const model = new Map([["/etc/pam.d/s", text]]);
      const want: Record<string, string[]> = {};
      for (const t of PAM_TYPES) {
        want[t] = pamStack(model, "s", t).entries
          .filter((e) => e.runs && pamModuleName(e.module!) === "pam_echo.so")
          .map((e) => (p.type === undefined || p.type === (t as PamType) ? argsAfter(e.args, [op]) : e.args).join(" "));
      }
      const pre = await pamModuleArg.capture(s.host, p);
      const res = await pamModuleArg.apply(s.host, p, pre);
      if (!res.ok) {
        refused++;
        expect(readFileSync(join(dir, "s"), "latin1")).toBe(text);
        continue;
      }
      if (pre.files.length) edited++;
      const judged = libpamStacks(dir, "s");
      if (JSON.stringify(judged) !== JSON.stringify(want)) {
        throw new Error(`seed ${seed} ${JSON.stringify(raw)}: libpam ${JSON.stringify(judged)} vs intended ${JSON.stringify(want)}\n--- before\n${text}--- after\n${readFileSync(join(dir, "s"), "latin1")}`);
      }
    }
    console.log(`pam edit judge (${hostPath}): ${TREES[hostPath]} services, ${edited} edited, ${refused} refused`);
    expect(edited).toBeGreaterThan(TREES[hostPath] / 4);
  });
});
