/**
 * Shared fixtures for the rule-loader tests. Parameters are validated by the
 * real registries (every check method and mechanism registers on import), so
 * a test can never pass against a schema the shipped binary does not use.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import "../../src/checks/index.ts";
import "../../src/handlers/index.ts";
import { registryLookup, type ParamLookup } from "../../src/rules/load.ts";
import { prerequisite } from "../support/prereq.ts";

/** The real registries: the same lookup the CLI uses. */
export const testLookup: ParamLookup = registryLookup;

export const REPO = join(import.meta.dir, "../..");

/**
 * The external corpora live in `shared/corpus` beside the repository (`../shared`
 * from /work/main; a worktree under /work/wt/NAME finds the same folder one
 * level further up). Undefined in a fresh clone.
 */
function findCorpus(): string | undefined {
  for (let dir = dirname(REPO); ; dir = dirname(dir)) {
    const c = join(dir, "shared/corpus");
    if (existsSync(c)) return c;
    if (dirname(dir) === dir) return undefined;
  }
}
const CORPUS = findCorpus();

/** The 58-rule kernel-module/sysctl compatibility corpus. */
export const KENSA_DIR = join(CORPUS ?? join(REPO, "../shared/corpus"), "kensa-rules");
/** The full 779-rule reference corpus. */
export const KENSA_FULL_DIR = join(CORPUS ?? join(REPO, "../shared/corpus"), "kensa-full");
/** Through prerequisite(): absent here it skips with a notice, absent under CI=true it fails. */
export const haveKensa = prerequisite(`the reference corpus ${KENSA_DIR}`, existsSync(KENSA_DIR));
export const haveKensaFull = prerequisite(`the reference corpus ${KENSA_FULL_DIR}`, existsSync(KENSA_FULL_DIR));

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
