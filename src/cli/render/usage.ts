/**
 * `--help` for every command, rendered from the citty definitions (meta,
 * args, subCommands). citty's own renderer puts the whole description on one
 * line and options on very long lines; this one wraps to the terminal, gives
 * each option's example its own line, and ends with the command's examples
 * (the "Examples:" block of `meta.description`). Colours only on a TTY.
 */
import type { ArgsDef, CommandDef } from "citty";
import { argsOf, subCommandsOf } from "../argv.ts";
import { paint, terminalText, type Paint } from "../ui.ts";

/** Split a description into its prose and its "Examples:" block. */
export function splitDescription(desc: string): { prose: string; examples: string[] } {
  const at = desc.indexOf("\n\nExamples:");
  const alt = at < 0 ? desc.indexOf("\n\nExample:") : at;
  if (alt < 0) return { prose: desc.trim(), examples: [] };
  const prose = desc.slice(0, alt).trim();
  const block = desc.slice(alt).replace(/^\n\nExamples?:\s*/, "");
  return { prose, examples: block.split("\n").map((l) => l.trim()).filter(Boolean) };
}

/** The first sentence, for the COMMANDS list. */
export function firstSentence(desc: string): string {
  const prose = splitDescription(desc).prose.split("\n")[0]!;
  const m = /^(.*?[.:])(\s|$)/.exec(prose);
  return (m ? m[1]! : prose).replace(/[.:]$/, "");
}

export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

function flagLabel(name: string, a: ArgsDef[string]): string {
  const alias = (a as { alias?: string | string[] }).alias;
  const aliases = Array.isArray(alias) ? alias : alias ? [alias] : [];
  const names = [...aliases.map((x) => (x.length === 1 ? `-${x}` : `--${x}`)), `--${name}`].join(", ");
  if (a.type === "boolean") return names;
  if (a.type === "enum") return `${names} <${((a as { options?: string[] }).options ?? []).join("|")}>`;
  return `${names} <${(a as { valueHint?: string }).valueHint ?? "VALUE"}>`;
}

/** The help text of CMD, wrapped to COLUMNS, ready for the terminal (control characters escaped). */
export async function renderHelp(cmd: CommandDef<any>, path: string[], version: string, colour: boolean, columns = 80): Promise<string> {
  const p: Paint = paint(colour);
  const width = Math.max(60, Math.min(columns, 120));
  const meta = (typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta) ?? {};
  const { prose, examples } = splitDescription(meta.description ?? "");
  const args = await argsOf(cmd);
  const subs = await subCommandsOf(cmd);
  const name = path.join(" ");
  const lines: string[] = [];

  lines.push(...wrap(prose, width), "", p.gray(`${name} ${version}`), "");

  const positionals = Object.entries(args).filter(([, a]) => a.type === "positional");
  const flags = Object.entries(args).filter(([, a]) => a.type !== "positional");
  const usage = [name];
  if (Object.keys(subs).length) usage.push("<command>");
  if (flags.length) usage.push("[OPTIONS]");
  for (const [n, a] of positionals) usage.push((a as { required?: boolean }).required === false ? `[${n.toUpperCase()}]` : `<${n.toUpperCase()}>`);
  lines.push(`${p.bold("USAGE")}  ${usage.join(" ")}`, "");

  const section = (title: string, rows: [string, string][]) => {
    if (!rows.length) return;
    lines.push(p.bold(title));
    const left = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 4);
    for (const [l, desc] of rows) {
      const body = desc.split(/ (?=Example: )/).flatMap((part) => wrap(part, width - left));
      const pad = " ".repeat(left);
      if (l.length + 4 > left) {
        lines.push(`  ${p.bold(l)}`);
        for (const b of body) lines.push(pad + b);
      } else {
        lines.push(`  ${p.bold(l)}${" ".repeat(left - 2 - l.length)}${body[0] ?? ""}`);
        for (const b of body.slice(1)) lines.push(pad + b);
      }
    }
    lines.push("");
  };

  section(
    "ARGUMENTS",
    positionals.map(([n, a]) => [n.toUpperCase(), a.description ?? ""]),
  );
  section(
    "OPTIONS",
    [
      ...flags.map(([n, a]): [string, string] => {
        const def = (a as { default?: unknown }).default;
        const dflt = def !== undefined && def !== false ? ` (default: ${String(def)})` : "";
        // The default goes before the example, which gets its own line.
        return [flagLabel(n, a), (a.description ?? "").replace(/( Example: .*)?$/, (ex) => dflt + ex)];
      }),
      ["-h, --help", "Show this help."],
    ],
  );
  section(
    "COMMANDS",
    await Promise.all(
      Object.entries(subs).map(async ([n, s]): Promise<[string, string]> => {
        const m = (typeof s.meta === "function" ? await s.meta() : await s.meta) ?? {};
        return [n, firstSentence(m.description ?? "")];
      }),
    ),
  );
  if (Object.keys(subs).length) lines.push(`Run ${p.bold(`${name} <command> --help`)} for a command's options.`, "");
  if (examples.length) {
    lines.push(p.bold("EXAMPLES"));
    for (const e of examples) lines.push(`  ${e}`);
    lines.push("");
  }
  return terminalText(lines.join("\n"));
}
