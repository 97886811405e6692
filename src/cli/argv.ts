/**
 * Strict argument checking in front of citty. citty parses leniently (unknown
 * flags are ignored, a repeated string flag keeps only its last value); a
 * compliance tool must not silently ignore `--rlue X` and run every rule. So
 * before citty sees the arguments we resolve the subcommand, reject unknown
 * flags, missing values, bad enum values and stray positionals, and collect
 * every value of every string flag (for repeatable flags such as `--rule`).
 */
import type { ArgsDef, CommandDef } from "citty";
import { UsageError } from "./errors.ts";

type AnyCommand = CommandDef<any>;

export interface ResolvedInvocation {
  /** The command to run, and the names leading to it (["bulwark", "rules", "list"]). */
  cmd: AnyCommand;
  path: string[];
  /** Arguments after the last subcommand name. */
  rest: string[];
  /** Command chain from the root, for usage rendering. */
  chain: AnyCommand[];
}

async function resolve<T>(x: T | Promise<T> | (() => T) | (() => Promise<T>)): Promise<T> {
  return typeof x === "function" ? await (x as () => T | Promise<T>)() : await x;
}

export async function subCommandsOf(cmd: AnyCommand): Promise<Record<string, AnyCommand>> {
  const subs = (await resolve(cmd.subCommands)) ?? {};
  const out: Record<string, AnyCommand> = {};
  for (const [k, v] of Object.entries(subs)) out[k] = await resolve(v as any);
  return out;
}

export async function argsOf(cmd: AnyCommand): Promise<ArgsDef> {
  return ((await resolve(cmd.args)) ?? {}) as ArgsDef;
}

/** Walk subcommand names from the front of argv (flags before a subcommand name are not allowed). */
export async function resolveInvocation(root: AnyCommand, rootName: string, argv: string[]): Promise<ResolvedInvocation> {
  let cmd = root;
  const path = [rootName];
  const chain = [root];
  let i = 0;
  for (;;) {
    const subs = await subCommandsOf(cmd);
    if (Object.keys(subs).length === 0) break;
    const next = argv[i];
    if (next === undefined || next.startsWith("-")) break;
    const sub = subs[next];
    if (!sub) {
      throw new UsageError(`unknown command "${next}" for "${path.join(" ")}" (commands: ${Object.keys(subs).join(", ")})`);
    }
    cmd = sub;
    path.push(next);
    chain.push(sub);
    i++;
  }
  return { cmd, path, rest: argv.slice(i), chain };
}

export const HELP_FLAGS = new Set(["--help", "-h"]);

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface FlagSpec {
  name: string;
  type: "string" | "boolean" | "enum";
  options?: string[];
}

/**
 * Check ARGV against the command's declared args and return every value of
 * every string/enum flag, in order (keyed by the declared name).
 */
export function checkArgs(argv: string[], def: ArgsDef, where: string): Map<string, string[]> {
  const flags = new Map<string, FlagSpec>();
  let positionals = 0;
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") {
      positionals++;
      continue;
    }
    const spec: FlagSpec = { name, type: (a.type ?? "string") as FlagSpec["type"] };
    if (a.type === "enum") spec.options = (a as { options?: string[] }).options;
    const alias = (a as { alias?: string | string[] }).alias;
    const aliases = Array.isArray(alias) ? alias : alias ? [alias] : [];
    for (const n of [name, camel(name), kebab(name)]) flags.set(`--${n}`, spec);
    for (const al of aliases) flags.set(al.length === 1 ? `-${al}` : `--${al}`, spec);
  }
  const values = new Map<string, string[]>();
  let seenPositionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      seenPositionals += argv.length - i - 1;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      seenPositionals++;
      if (seenPositionals > positionals) throw new UsageError(`${where}: unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    let spec = flags.get(flag);
    if (!spec && flag.startsWith("--no-")) {
      const neg = flags.get(`--${flag.slice(5)}`);
      if (neg?.type === "boolean" && inline === undefined) continue;
    }
    if (!spec) throw new UsageError(`${where}: unknown flag ${flag} (see ${where} --help)`);
    if (spec.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`${where}: ${flag} takes no value (got "${inline}")`);
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) throw new UsageError(`${where}: ${flag} needs a value`);
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`${where}: ${flag} needs a non-empty value`);
    if (spec.options && !spec.options.includes(value)) {
      throw new UsageError(`${where}: ${flag} must be one of ${spec.options.join(", ")} (got "${value}")`);
    }
    const list = values.get(spec.name) ?? [];
    list.push(value);
    values.set(spec.name, list);
  }
  return values;
}
