/**
 * `sshd_effective_config {key, expected, comparator?}`: the value sshd will
 * use for KEY, computed from the files exactly as `sshd -T` does
 * (config/sshd.ts), never by running sshd: it works on an offline image and
 * needs no root, and the detail names the file:line that decided.
 *
 * Comparators: `==` (default) and `!=`, `in` / `not in` (expected is a list),
 * `>=` / `<=` (integers and times, in seconds), and for list keywords
 * (Ciphers, MACs, KexAlgorithms, …: comma lists; AcceptEnv, AllowUsers, …:
 * space lists) `contains` (every expected item is in the list), `none_of`
 * (no item of the list is expected), `only_from` (every item of the list is
 * expected). Expected values are written as in sshd_config and compared in
 * the form sshd prints ("prohibit-password" equals "without-password",
 * "1m" equals "60", "1G 1h" equals "1073741824 3600").
 */
import * as v from "valibot";
import type { DirEntry, Host } from "../host/host.ts";
import { HostIoError } from "../host/host.ts";
import {
  canonicalSshdKeyword,
  evaluateSshd,
  isModeledSshdKeyword,
  modeledSshdKeywords,
  printedSshdValue,
  SSHD_CONFIG,
  type SshdConfig,
  type SshdTree,
  sshdValueShape,
} from "../config/sshd.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { registerCheck } from "./registry.ts";
import { latin1, resolveLogical } from "./fs-gather.ts";

export const SSHD_COMPARATORS = ["==", "!=", "in", "not in", ">=", "<=", "contains", "none_of", "only_from"] as const;
const LIST_COMPARATORS = new Set(["in", "not in", "contains", "none_of", "only_from"]);

const Scalar = v.pipe(
  v.union([v.string(), v.number()], "expected must be a string, a number or a list of them"),
  v.transform((x) => String(x)),
);

export const SshdEffectiveConfigParams = v.pipe(
  v.object({
    key: v.pipe(
      v.string("key must be an sshd keyword"),
      v.check(isModeledSshdKeyword, (i) => `key "${String(i.input)}" is not an sshd keyword Bulwark models (one of: ${modeledSshdKeywords().join(", ")})`),
    ),
    expected: v.union([Scalar, v.array(Scalar)], "expected must be a string, a number or a list of them"),
    comparator: v.optional(v.picklist(SSHD_COMPARATORS, `comparator must be one of ${SSHD_COMPARATORS.join(", ")}`), "=="),
  }),
  v.check((p) => LIST_COMPARATORS.has(p.comparator) || !Array.isArray(p.expected), (i) => `comparator "${(i.input as { comparator: string }).comparator}" needs a single expected value, not a list`),
);
export type SshdEffectiveConfigParams = v.InferOutput<typeof SshdEffectiveConfigParams>;

/** More lookups than this while following Includes is a hostile tree, not a configuration. */
const MAX_ROUNDS = 64;
const MAX_PATHS = 4096;

/**
 * Gather the sshd_config tree through the Host, following Include globs
 * (symlinks resolved inside the root), and evaluate it. Every lookup the
 * evaluator asks for is answered; the loop ends when it asks for nothing new.
 * Plain files whose type a parent listing already gave are read in one batch
 * per round (one round trip on the shell path).
 */
export async function gatherSshdConfig(host: Host, main: string = SSHD_CONFIG): Promise<{ cfg: SshdConfig; tree: SshdTree }> {
  const files = new Map<string, string>();
  const dirs = new Map<string, string[]>();
  const absent = new Set<string>();
  const types = new Map<string, DirEntry["type"]>();
  const tree: SshdTree = { files, dirs, absent };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cfg = evaluateSshd(tree, main);
    if (cfg.needs.length === 0) return { cfg, tree };
    const plain = cfg.needs.filter((p) => types.get(p) === "file");
    const states = await host.readFiles(plain);
    plain.forEach((p, i) => (states[i]!.exists ? files.set(p, latin1(states[i]!.bytes)) : absent.add(p)));
    for (const p of cfg.needs) {
      if (types.get(p) === "file") continue;
      if (types.get(p) === "other") files.set(p, ""); // a FIFO or device: sshd reads nothing it can parse
      else await lookup(host, p, files, dirs, absent, types);
    }
    if (files.size + dirs.size + absent.size > MAX_PATHS) break;
  }
  throw new Error(`following Include in ${main} needed more than ${MAX_ROUNDS} rounds or ${MAX_PATHS} paths: refusing a tree this large`);
}

async function lookup(
  host: Host,
  p: string,
  files: Map<string, string>,
  dirs: Map<string, string[]>,
  absent: Set<string>,
  types: Map<string, DirEntry["type"]>,
): Promise<void> {
  let real: string;
  try {
    real = await resolveLogical(host, p);
  } catch (e) {
    if (e instanceof HostIoError && e.code === "ELOOP") return void absent.add(p);
    throw e;
  }
  if (real === "/dev/null") return void files.set(p, "");
  const listing = await host.listDir(real).catch((e) => {
    if (e instanceof HostIoError && e.code === "ENOTDIR") return undefined;
    throw e;
  });
  if (listing === null) return void absent.add(p);
  if (listing !== undefined) {
    dirs.set(p, listing.map((e) => e.name));
    for (const e of listing) types.set(`${p === "/" ? "" : p}/${e.name}`, e.type);
    return;
  }
  const st = await host.readFile(real);
  if (st.exists) files.set(p, latin1(st.bytes));
  else absent.add(p);
}

/** The items of a printed value, for the list comparators. */
function items(key: string, value: string): string[] {
  const shape = sshdValueShape(key);
  if (shape === "comma-list") return value.split(",").filter(Boolean);
  return value.split(/\s+/).filter(Boolean);
}

/** The expected value(s) in printed form; a string error when one is not a value sshd accepts for KEY. */
function printedExpected(key: string, expected: string | string[], listItems: boolean): string[] | string {
  const raw = Array.isArray(expected) ? expected : [expected];
  const out: string[] = [];
  for (const e of raw) {
    if (e.includes("{{")) return `expected "${e}" holds an unresolved rule variable`;
    // List items (a cipher name, a user) are compared as written; whole values in the form sshd prints.
    if (listItems) {
      out.push(...(Array.isArray(expected) ? [e] : items(key, e)));
      continue;
    }
    const printed = printedSshdValue(key, e);
    if (printed === null) return `expected "${e}" is not a value sshd accepts for ${key}`;
    out.push(printed);
  }
  return out;
}

/** Compare; a string result is why no verdict is possible. */
export function compareSshd(key: string, actual: string, expected: string | string[], op: SshdEffectiveConfigParams["comparator"]): boolean | string {
  const itemwise = op === "contains" || op === "none_of" || op === "only_from";
  const want = printedExpected(key, expected, itemwise);
  if (typeof want === "string") return want;
  switch (op) {
    case "==":
      return actual === want[0];
    case "!=":
      return actual !== want[0];
    case "in":
      return want.includes(actual);
    case "not in":
      return !want.includes(actual);
    case ">=":
    case "<=": {
      if (sshdValueShape(key) !== "number") return `"${op}" needs a numeric keyword; ${key} is not one`;
      const a = Number(actual);
      const e = Number(want[0]);
      return op === ">=" ? a >= e : a <= e;
    }
    case "contains": {
      const have = items(key, actual);
      return want.every((w) => have.includes(w));
    }
    case "none_of":
      return !items(key, actual).some((a) => want.includes(a));
    case "only_from":
      return items(key, actual).every((a) => want.includes(a));
  }
}

function where(src: { file: string; line: number } | null): string {
  return src ? `set at ${src.file}:${src.line}` : "compiled-in default: no line sets it";
}

async function run(host: Host, p: SshdEffectiveConfigParams): Promise<CheckResult> {
  let cfg: SshdConfig;
  try {
    ({ cfg } = await gatherSshdConfig(host));
  } catch (e) {
    return { status: "error", detail: `cannot read the sshd configuration: ${(e as Error).message}` };
  }
  if (cfg.errors.length > 0) {
    return { status: "error", detail: `sshd would refuse ${SSHD_CONFIG} as it is on disk now (${cfg.errors.length} problem(s)): ${cfg.errors.slice(0, 3).join("; ")}` };
  }
  const eff = cfg.values.get(canonicalSshdKeyword(p.key) ?? "");
  if (!eff) return { status: "error", detail: `no effective value computed for ${p.key}` };
  const ok = compareSshd(eff.keyword, eff.value, p.expected, p.comparator);
  const want = `${p.comparator} ${JSON.stringify(p.expected)}`;
  const shown = eff.value.length > 200 ? `${eff.value.slice(0, 200)}…` : eff.value;
  if (typeof ok === "string") return { status: "error", detail: `${eff.keyword}: ${ok}` };
  return {
    status: ok ? "pass" : "fail",
    detail: `${eff.keyword} is "${shown}" (${where(eff.source)})${ok ? "" : `, expected ${want}`}`,
  };
}

export const sshdEffectiveConfig: CheckMethod<SshdEffectiveConfigParams> = {
  name: "sshd_effective_config",
  params: SshdEffectiveConfigParams,
  uses: ["files"],
  run,
};

registerCheck(sshdEffectiveConfig);
