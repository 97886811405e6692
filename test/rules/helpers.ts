/**
 * Shared fixtures for the rule-loader tests: a parameter lookup that uses the
 * real registries and, where a mechanism has not registered yet, a stand-in
 * built from the same edge validators the real handlers use.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import * as v from "valibot";
import "../../src/checks/index.ts";
import { getCheck } from "../../src/checks/registry.ts";
import { getMechanism } from "../../src/handlers/registry.ts";
import type { ParamLookup } from "../../src/rules/load.ts";
import { ModuleName, SysctlKey, SysctlValue } from "../../src/rules/validators.ts";

/** Stand-ins, used only while `src/handlers/` has not registered the real mechanism. */
const STAND_INS: Record<string, v.GenericSchema> = {
  kernel_module_disable: v.strictObject({ name: ModuleName }),
  sysctl_set: v.strictObject({
    key: SysctlKey,
    value: SysctlValue,
    persist_file: v.optional(v.pipe(v.string(), v.regex(/^\/etc\/sysctl\.d\/[A-Za-z0-9_.-]+\.conf$/))),
  }),
};

export const testLookup: ParamLookup = {
  check: (name) => getCheck(name)?.params,
  mechanism: (name) => getMechanism(name)?.params ?? STAND_INS[name],
};

export const REPO = join(import.meta.dir, "../..");
/** The external compatibility corpus; absent in a fresh clone. */
export const KENSA_DIR = join(REPO, "../shared/corpus/kensa-rules");
export const haveKensa = existsSync(KENSA_DIR);
if (!haveKensa) console.log(`NOTICE: ${KENSA_DIR} is absent; corpus-compatibility tests are skipped`);

/** A minimal valid rule as a plain object, for tests to break one field at a time. */
export function ruleObject(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "kmod-disable-x",
    title: "Keep x from loading",
    description: "d",
    rationale: "r",
    severity: "low",
    category: "kernel",
    platforms: [{ family: "rhel", min_version: 8 }],
    implementations: [
      {
        default: true,
        check: { method: "kernel_module_state", name: "cramfs", state: "blacklisted" },
        remediation: { mechanism: "kernel_module_disable", name: "cramfs" },
      },
    ],
    ...over,
  };
}

/** JSON is YAML, so a rule object can be fed to the YAML loader as text. */
export const asYaml = (o: unknown): string => JSON.stringify(o, null, 2);
