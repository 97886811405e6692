/** bash, zsh and fish completions, generated from the CLI tree. */
import type { CommandDoc } from "./cli-tree.ts";

function flagWords(c: CommandDoc): string[] {
  return c.flags.filter((f) => !f.positional).flatMap((f) => [`--${f.name}`, ...f.alias.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))]);
}

export function bashCompletion(root: CommandDoc): string {
  const cases = root.subcommands.map((c) => {
    const words = [...c.subcommands.map((s) => s.path.at(-1)!), ...flagWords(c), "--help"];
    return `    ${c.path[0]}) opts=${JSON.stringify(words.join(" "))} ;;`;
  });
  return `# bash completion for bulwark (generated from the CLI definitions)
_bulwark() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${JSON.stringify(root.subcommands.map((c) => c.path[0]).join(" ") + " --help --version")} -- "$cur") )
    return
  fi
  case "$cmd" in
${cases.join("\n")}
    *) opts="--help" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _bulwark bulwark
`;
}

const q = (s: string) => s.replaceAll("'", "'\\''").replaceAll("\n", " ");

export function zshCompletion(root: CommandDoc): string {
  const cmds = root.subcommands.map((c) => `    '${c.path[0]}:${q(c.description.split("\n")[0]!.replaceAll(":", "\\:"))}'`);
  const cases = root.subcommands.map((c) => {
    const specs = c.flags.filter((f) => !f.positional).map((f) => `'--${f.name}[${q(f.description.split("\n")[0]!).replaceAll("[", "(").replaceAll("]", ")")}]${f.type === "boolean" ? "" : ":value:"}'`);
    const subs = c.subcommands.map((s) => s.path.at(-1)!).join(" ");
    return `    ${c.path[0]}) _arguments ${specs.join(" ")}${subs ? ` '1:subcommand:(${subs})'` : ""} ;;`;
  });
  return `#compdef bulwark
# zsh completion for bulwark (generated from the CLI definitions)
_bulwark() {
  local -a commands
  commands=(
${cmds.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases.join("\n")}
  esac
}
_bulwark "$@"
`;
}

export function fishCompletion(root: CommandDoc): string {
  const lines = ["# fish completion for bulwark (generated from the CLI definitions)", "complete -c bulwark -f"];
  const top = root.subcommands.map((c) => c.path[0]).join(" ");
  for (const c of root.subcommands) {
    lines.push(`complete -c bulwark -n "not __fish_seen_subcommand_from ${top}" -a ${c.path[0]} -d '${q(c.description.split("\n")[0]!)}'`);
    for (const s of c.subcommands) lines.push(`complete -c bulwark -n "__fish_seen_subcommand_from ${c.path[0]}" -a ${s.path.at(-1)} -d '${q(s.description.split("\n")[0]!)}'`);
    for (const f of c.flags.filter((f) => !f.positional)) {
      lines.push(`complete -c bulwark -n "__fish_seen_subcommand_from ${c.path[0]}" -l ${f.name}${f.type === "boolean" ? "" : " -r"} -d '${q(f.description.split("\n")[0]!)}'`);
    }
  }
  return lines.join("\n") + "\n";
}
