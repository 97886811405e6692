/**
 * The CLI's own definitions, walked into plain data: the man page and the
 * shell completions are generated from this, so they cannot drift from
 * what `--help` says.
 */
import type { CommandDef } from "citty";

export interface FlagDoc {
  name: string;
  alias: string[];
  type: string;
  description: string;
  default?: string;
  positional: boolean;
  /** An enum flag's values. */
  options?: string[];
  /** What a value flag takes: ID, DIR, TAG… */
  valueHint?: string;
}

export interface CommandDoc {
  path: string[];
  description: string;
  flags: FlagDoc[];
  subcommands: CommandDoc[];
}

async function resolve<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** The command tree under CMD as plain data (PATH is its name path). */
export async function walk(cmd: CommandDef<any>, path: string[] = []): Promise<CommandDoc> {
  const meta = (await resolve(cmd.meta as any)) as { name?: string; description?: string } | undefined;
  const args = ((await resolve(cmd.args as any)) ?? {}) as Record<string, any>;
  const subs = ((await resolve(cmd.subCommands as any)) ?? {}) as Record<string, any>;
  const flags: FlagDoc[] = Object.entries(args).map(([name, a]) => ({
    name,
    alias: a.alias === undefined ? [] : Array.isArray(a.alias) ? a.alias : [a.alias],
    type: a.type ?? "string",
    description: a.description ?? "",
    default: a.default === undefined ? undefined : String(a.default),
    positional: a.type === "positional",
    ...(Array.isArray(a.options) ? { options: a.options.map(String) } : {}),
    ...(typeof a.valueHint === "string" ? { valueHint: a.valueHint } : {}),
  }));
  const subcommands: CommandDoc[] = [];
  for (const [name, sub] of Object.entries(subs)) subcommands.push(await walk((await resolve(sub)) as CommandDef<any>, [...path, name]));
  return { path, description: meta?.description ?? "", flags, subcommands };
}

/** Every command in the tree, depth first, the root first. */
export function flatten(c: CommandDoc): CommandDoc[] {
  return [c, ...c.subcommands.flatMap(flatten)];
}
