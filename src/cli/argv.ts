/**
 * The one argument parser. citty keeps the command definitions (meta, args,
 * subcommands) that `--help`, the man page and the completions are rendered
 * from; this module alone turns argv into values. citty's own parser is
 * lenient (unknown flags ignored, `-q=false` read as true, a repeated flag
 * keeps its last value); a compliance tool must not silently run every rule
 * because of `--rlue X`. So we resolve the subcommand, reject unknown flags,
 * missing values, bad enum values, repeated single-value flags and stray
 * positionals, and return the typed values the command runs with.
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

/** The command's subcommands, resolved (empty for a leaf command). Loads every one: for help, not for dispatch. */
export async function subCommandsOf(cmd: AnyCommand): Promise<Record<string, AnyCommand>> {
  const subs = await lazySubCommandsOf(cmd);
  const out: Record<string, AnyCommand> = {};
  for (const [k, v] of Object.entries(subs)) out[k] = await resolve(v as any);
  return out;
}

/** The command's subcommand names, each still unloaded (a lazy `() => import(…)` stays unresolved until chosen). */
async function lazySubCommandsOf(cmd: AnyCommand): Promise<Record<string, unknown>> {
  return ((await resolve(cmd.subCommands)) ?? {}) as Record<string, unknown>;
}

/** True when the command has subcommands (a group such as `rules`), without loading any of them. */
export async function hasSubCommands(cmd: AnyCommand): Promise<boolean> {
  return Object.keys(await lazySubCommandsOf(cmd)).length > 0;
}

/** The command's declared arguments, resolved. */
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
    // Only the chosen subcommand is loaded: `bulwark version` does not import the engine, rules or store.
    const subs = await lazySubCommandsOf(cmd);
    if (Object.keys(subs).length === 0) break;
    const next = argv[i];
    if (next === undefined || next.startsWith("-")) break;
    if (!Object.hasOwn(subs, next)) {
      throw new UsageError(`unknown command "${next}" for "${path.join(" ")}" (commands: ${Object.keys(subs).join(", ")})`);
    }
    const sub: AnyCommand = await resolve(subs[next] as any);
    cmd = sub;
    path.push(next);
    chain.push(sub);
    i++;
  }
  return { cmd, path, rest: argv.slice(i), chain };
}

/** Flags that print help instead of running the command. */
export const HELP_FLAGS = new Set(["--help", "-h"]);

interface FlagSpec {
  name: string;
  type: "string" | "boolean" | "enum";
  options?: string[];
  repeatable: boolean;
}

/** What one parse of a command's arguments decided. */
export interface ParsedArgv {
  /** Value per declared name: booleans true/false, strings the last value (repeatable) or the only one, defaults applied. */
  args: Record<string, string | boolean | undefined>;
  /** Every value of each string/enum flag, in order (for repeatable flags such as --rule). */
  multi: Map<string, string[]>;
}

/** A flag's value may start with "-" only when it is a number ("--txn -3"): "--rule --format" is a missing value. */
function looksLikeValue(next: string | undefined): next is string {
  return next !== undefined && (!next.startsWith("-") || next === "-" || /^-\d/.test(next));
}

function specsOf(def: ArgsDef): { flags: Map<string, FlagSpec>; positionals: string[] } {
  const flags = new Map<string, FlagSpec>();
  const positionals: string[] = [];
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") {
      positionals.push(name);
      continue;
    }
    const spec: FlagSpec = {
      name,
      type: (a.type ?? "string") as FlagSpec["type"],
      repeatable: (a as { repeatable?: boolean }).repeatable === true,
    };
    if (a.type === "enum") spec.options = (a as { options?: string[] }).options;
    const alias = (a as { alias?: string | string[] }).alias;
    const aliases = Array.isArray(alias) ? alias : alias ? [alias] : [];
    flags.set(`--${name}`, spec);
    for (const al of aliases) flags.set(al.length === 1 ? `-${al}` : `--${al}`, spec);
  }
  return { flags, positionals };
}

/**
 * Parse ARGV (the arguments after the subcommand names) against DEF, once.
 * Throws UsageError naming the flag for every mistake; never ignores an argument.
 */
export function parseArgv(argv: string[], def: ArgsDef, where: string): ParsedArgv {
  const { flags, positionals } = specsOf(def);
  const args: ParsedArgv["args"] = {};
  const multi = new Map<string, string[]>();
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "boolean") args[name] = (a as { default?: boolean }).default === true;
    else if (a.type !== "positional" && (a as { default?: unknown }).default !== undefined) args[name] = String((a as { default?: unknown }).default);
  }
  const given = new Set<string>();
  let seenPositionals = 0;
  const positional = (arg: string) => {
    const name = positionals[seenPositionals++];
    if (name === undefined) throw new UsageError(`${where}: unexpected argument "${arg}"`);
    args[name] = arg;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      for (const rest of argv.slice(i + 1)) positional(rest);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    let spec = flags.get(flag);
    let negated = false;
    if (!spec && flag.startsWith("--no-")) {
      const neg = flags.get(`--${flag.slice(5)}`);
      if (neg?.type === "boolean") {
        spec = neg;
        negated = true;
      }
    }
    if (!spec) throw new UsageError(`${where}: unknown flag ${flag} (see ${where} --help)`);
    if (given.has(spec.name) && !spec.repeatable) {
      throw new UsageError(`${where}: ${flag} given twice; it takes one value (see ${where} --help)`);
    }
    given.add(spec.name);
    if (spec.type === "boolean") {
      if (negated && inline !== undefined) throw new UsageError(`${where}: ${flag} takes no value (got "${inline}")`);
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`${where}: ${flag} takes no value (got "${inline}"; use ${flag} or ${flag}=false)`);
      }
      args[spec.name] = negated ? false : inline !== "false";
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (!looksLikeValue(next)) throw new UsageError(`${where}: ${flag} needs a value`);
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`${where}: ${flag} needs a non-empty value`);
    if (spec.options && !spec.options.includes(value)) {
      throw new UsageError(`${where}: ${flag} must be one of ${spec.options.join(", ")} (got "${value}")`);
    }
    const list = multi.get(spec.name) ?? [];
    list.push(value);
    multi.set(spec.name, list);
    args[spec.name] = value;
  }
  return { args, multi };
}
