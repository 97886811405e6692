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
 * expected); list items may use sshd's own `*` and `?` wildcards ("*-cbc"). Expected values are written as in sshd_config and compared in
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
  matchPattern,
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
import { perRunSnapshot } from "./run-snapshot.ts";

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
 *
 * Round trips matter on the shell path, so a path is looked up through its
 * parent's listing: the listing types every entry, plain files are then read
 * in one batch per round, and only symlinks are resolved component by component.
 */
export function gatherSshdConfig(host: Host, main: string = SSHD_CONFIG): Promise<{ cfg: SshdConfig; tree: SshdTree }> {
  return sshdSnapshot(host, main);
}

/** Through a run cache, one gather and evaluation per generation for every sshd rule of a run (run-snapshot.ts, performance/AC-18). */
const sshdSnapshot = perRunSnapshot("sshd-config", (host, main) => readSshdConfig(host, main));

async function readSshdConfig(host: Host, main: string): Promise<{ cfg: SshdConfig; tree: SshdTree }> {
  const g = new Gather(host);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cfg = evaluateSshd(g.tree, main);
    if (cfg.needs.length === 0) return { cfg, tree: g.tree };
    await g.answer(cfg.needs);
    if (g.size() > MAX_PATHS) break;
  }
  throw new Error(`following Include in ${main} needed more than ${MAX_ROUNDS} rounds or ${MAX_PATHS} paths: refusing a tree this large`);
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf("/")) || "/";
const childOf = (dir: string, name: string) => `${dir === "/" ? "" : dir}/${name}`;

/** What is known so far: the evaluator's tree plus, per listed directory, its real path and its entries' types. */
class Gather {
  readonly files = new Map<string, string>();
  readonly dirs = new Map<string, string[]>();
  readonly absent = new Set<string>();
  readonly tree: SshdTree = { files: this.files, dirs: this.dirs, absent: this.absent };
  private readonly real = new Map<string, string>();
  private readonly types = new Map<string, DirEntry["type"]>();

  constructor(private readonly host: Host) {}

  size(): number {
    return this.files.size + this.dirs.size + this.absent.size;
  }

  async answer(needs: readonly string[]): Promise<void> {
    const batch: { p: string; real: string }[] = [];
    for (const p of needs) {
      const parent = parentOf(p);
      const realParent = this.real.get(parent);
      const type = this.types.get(p);
      if (p === "/" || (realParent === undefined && !this.files.has(parent) && !this.absent.has(parent))) {
        // Parent not seen yet: list it first (p is answered from its listing next round), or resolve "/" itself.
        await this.resolve(p === "/" ? p : parent);
      } else if (realParent === undefined || type === undefined) {
        this.absent.add(p); // the parent is a file or absent, or p is not in its listing
      } else if (type === "file") {
        batch.push({ p, real: childOf(realParent, p.slice(parent.length + (parent === "/" ? 0 : 1))) });
      } else if (type === "dir") {
        await this.list(p, childOf(realParent, p.slice(parent.length + (parent === "/" ? 0 : 1))));
      } else if (type === "other") {
        this.files.set(p, ""); // a FIFO or device: nothing sshd could parse
      } else {
        await this.resolve(p);
      }
    }
    if (batch.length === 0) return;
    const states = await this.host.readFiles(batch.map((b) => b.real));
    batch.forEach((b, i) => (states[i]!.exists ? this.files.set(b.p, latin1(states[i]!.bytes)) : this.absent.add(b.p)));
  }

  /** Record the listing of logical directory P, whose real (symlink-free) path is REAL; false when REAL is not a directory. */
  private async list(p: string, real: string): Promise<boolean> {
    const listing = await this.host.listDir(real).catch((e) => {
      if (e instanceof HostIoError && e.code === "ENOTDIR") return undefined;
      throw e;
    });
    if (listing === undefined) return false;
    if (listing === null) {
      this.absent.add(p);
      return true;
    }
    this.dirs.set(p, listing.map((e) => e.name));
    this.real.set(p, real);
    for (const e of listing) this.types.set(childOf(p, e.name), e.type);
    return true;
  }

  /** Resolve P's symlinks inside the root, then record it as a directory, a file, or absent. */
  private async resolve(p: string): Promise<void> {
    let real: string;
    try {
      real = await resolveLogical(this.host, p);
    } catch (e) {
      if (e instanceof HostIoError && e.code === "ELOOP") return void this.absent.add(p);
      throw e;
    }
    if (real === "/dev/null") return void this.files.set(p, "");
    if (await this.list(p, real)) return;
    const st = await this.host.readFile(real);
    if (st.exists) this.files.set(p, latin1(st.bytes));
    else this.absent.add(p);
  }
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
      return want.every((w) => have.some((h) => matchPattern(h, w)));
    }
    case "none_of":
      return !items(key, actual).some((a) => want.some((w) => matchPattern(a, w)));
    case "only_from":
      return items(key, actual).every((a) => want.some((w) => matchPattern(a, w)));
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
