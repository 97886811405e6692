/**
 * The `find_args` of a file_permissions rule, parsed into plain data: the
 * subset of GNU find's expression language the reference corpus uses, and
 * nothing else (anything outside it is refused at rule load, naming the
 * token). Bulwark never runs find for a selection: config/find-select.ts
 * evaluates this tree over the Host's walk, and a property test holds it to
 * GNU find's own verdicts.
 *
 * Grammar (GNU precedence: `!` over implicit/explicit `-a` over `-o`):
 *   expr    := and ( "-o" and )*
 *   and     := unary ( ["-a"] unary )*
 *   unary   := "!" unary | "(" expr ")" | test
 *   test    := -perm [-/]MODE | -user NAME|ID | -group NAME|ID
 *            | -uid [+-]N | -gid [+-]N | -name PATTERN | -type f|d
 * Options, wherever they appear (as find treats them): -xdev, -maxdepth N,
 * -mindepth N. Words: bare, or in single quotes; `\(` and `\)` are the
 * parentheses (the corpus writes them shell-escaped).
 */
import { parseMode, type ModeSpec } from "./file-mode.ts";

export type FindTest =
  | { t: "perm"; how: "exact" | "all" | "any"; mask: number }
  | { t: "user" | "group"; name: string }
  | { t: "uid" | "gid"; cmp: "lt" | "eq" | "gt"; n: number }
  | { t: "name"; pattern: string }
  | { t: "type"; type: "file" | "dir" };

export type FindExpr =
  | { op: "and" | "or"; args: FindExpr[] }
  | { op: "not"; arg: FindExpr }
  | { op: "test"; test: FindTest }
  | { op: "true" };

export interface FindArgs {
  expr: FindExpr;
  xdev: boolean;
  minDepth: number;
  maxDepth: number | null;
}

/** A user or group name as passwd(5)/group(5) allow it in practice, or a numeric id. */
export const ACCOUNT_RE = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/;

/** Split ARGS into words; a string says what is refused. */
export function findTokens(args: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  while (i < args.length) {
    const c = args[i]!;
    if (c === " " || c === "\t") { i++; continue; }
    let word = "";
    while (i < args.length && args[i] !== " " && args[i] !== "\t") {
      const ch = args[i]!;
      if (ch === "'") {
        const end = args.indexOf("'", i + 1);
        if (end < 0) return "find_args has an unclosed single quote";
        word += args.slice(i + 1, end);
        i = end + 1;
      } else if (ch === "\\" && (args[i + 1] === "(" || args[i + 1] === ")")) {
        word += args[i + 1];
        i += 2;
      } else if (/[A-Za-z0-9_.\/+\-!*?[\],=]/.test(ch)) {
        word += ch;
        i++;
      } else {
        return `find_args character ${JSON.stringify(ch)} is not supported (only words, single quotes and \\( \\))`;
      }
    }
    out.push(word);
  }
  return out;
}

/** A -perm argument: MODE exact, -MODE all bits, /MODE any bit; MODE octal or symbolic (relative to 0, as find reads it). */
function permTest(arg: string): FindTest | string {
  const how = arg.startsWith("-") ? "all" : arg.startsWith("/") ? "any" : "exact";
  const body = how === "exact" ? arg : arg.slice(1);
  const spec: ModeSpec | string = /^[0-7]{1,4}$/.test(body) ? { kind: "max", mode: parseInt(body, 8) } : parseMode(body);
  if (typeof spec === "string") return `-perm ${arg}: ${spec}`;
  let mask = 0;
  if (spec.kind === "max") mask = spec.mode;
  else for (const c of spec.clauses) {
    if (c.op === "-") return `-perm ${arg}: a '-' clause is not a mask`;
    for (const u of c.who.includes("a") ? "ugo" : c.who) {
      const shift = u === "u" ? 6 : u === "g" ? 3 : 0;
      for (const [p, b] of [["r", 4], ["w", 2], ["x", 1]] as const) if (c.perms.includes(p)) mask |= b << shift;
      if (c.perms.includes("s") && u !== "o") mask |= u === "u" ? 0o4000 : 0o2000;
      if (c.perms.includes("t") && u === "o") mask |= 0o1000;
    }
  }
  return { t: "perm", how, mask };
}

const DEPTH_RE = /^\d{1,4}$/;

/** Parse find_args (and an optional find_name, ANDed in) into FindArgs; a string says what is wrong. */
export function parseFindArgs(args: string, findName?: string): FindArgs | string {
  const toks = findTokens(args);
  if (typeof toks === "string") return toks;
  const out: FindArgs = { expr: { op: "true" }, xdev: false, minDepth: 0, maxDepth: null };
  // Options first: find applies them wherever they appear.
  const rest: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === "-xdev") out.xdev = true;
    else if (t === "-maxdepth" || t === "-mindepth") {
      const n = toks[++i];
      if (n === undefined || !DEPTH_RE.test(n)) return `${t} needs a number 0..9999, not ${JSON.stringify(n ?? "")}`;
      if (t === "-maxdepth") out.maxDepth = Number(n);
      else out.minDepth = Number(n);
    } else rest.push(t);
  }
  let pos = 0;
  const peek = () => rest[pos];
  const fail = (msg: string): never => { throw new Error(msg); };

  const test = (): FindExpr => {
    const t = rest[pos++]!;
    const arg = rest[pos++];
    if (arg === undefined) fail(`${t} needs an argument`);
    switch (t) {
      case "-perm": {
        const p = permTest(arg!);
        return typeof p === "string" ? fail(p) : { op: "test", test: p };
      }
      case "-user": case "-group":
        if (!ACCOUNT_RE.test(arg!)) fail(`${t} ${JSON.stringify(arg)} is not a user/group name or number`);
        return { op: "test", test: { t: t.slice(1) as "user" | "group", name: arg! } };
      case "-uid": case "-gid": {
        const m = /^([+-]?)(\d{1,10})$/.exec(arg!);
        if (!m || Number(m[2]) > 0xffffffff) fail(`${t} ${JSON.stringify(arg)} is not [+-]N`);
        return { op: "test", test: { t: t.slice(1) as "uid" | "gid", cmp: m![1] === "+" ? "gt" : m![1] === "-" ? "lt" : "eq", n: Number(m![2]) } };
      }
      case "-name":
        if (arg!.length > 255 || arg!.includes("/")) fail(`-name ${JSON.stringify(arg)}: a pattern for one name, without /`);
        return { op: "test", test: { t: "name", pattern: arg! } };
      case "-type":
        if (arg !== "f" && arg !== "d") fail(`-type ${JSON.stringify(arg)}: only f and d are supported`);
        return { op: "test", test: { t: "type", type: arg === "f" ? "file" : "dir" } };
    }
    return fail(`find_args ${JSON.stringify(t)} is not supported (supported: ! ( ) -o -a -perm -user -group -uid -gid -name -type -xdev -maxdepth -mindepth)`);
  };
  const unary = (): FindExpr => {
    const t = peek();
    if (t === undefined) return fail("find_args ends where a test is expected");
    if (t === "!") { pos++; return { op: "not", arg: unary() }; }
    if (t === "(") {
      pos++;
      const e = or();
      if (rest[pos++] !== ")") fail("find_args has an unclosed (");
      return e;
    }
    return test();
  };
  const and = (): FindExpr => {
    const args = [unary()];
    for (;;) {
      const t = peek();
      if (t === undefined || t === "-o" || t === ")") break;
      if (t === "-a") pos++;
      args.push(unary());
    }
    return args.length === 1 ? args[0]! : { op: "and", args };
  };
  const or = (): FindExpr => {
    const args = [and()];
    while (peek() === "-o") { pos++; args.push(and()); }
    return args.length === 1 ? args[0]! : { op: "or", args };
  };
  try {
    if (rest.length) {
      out.expr = or();
      if (pos < rest.length) return `find_args: unexpected ${JSON.stringify(rest[pos])}`;
    }
    if (findName !== undefined) {
      if (findName.length === 0 || findName.length > 255 || findName.includes("/")) return `find_name ${JSON.stringify(findName)}: a pattern for one name, without /`;
      const n: FindExpr = { op: "test", test: { t: "name", pattern: findName } };
      out.expr = out.expr.op === "true" ? n : { op: "and", args: [n, out.expr] };
    }
  } catch (e) {
    return (e as Error).message;
  }
  if (out.maxDepth !== null && out.minDepth > out.maxDepth) return `-mindepth ${out.minDepth} is over -maxdepth ${out.maxDepth}`;
  return out;
}
