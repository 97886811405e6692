/**
 * Which walked entries a find-style selection picks: the FindArgs of
 * params/find-expr.ts evaluated over lstat data, as GNU find evaluates
 * them (find is the judge in test/config/find-select.property.test.ts).
 * Pure: entries and resolved accounts in, a verdict per entry out.
 */
import type { FindArgs, FindExpr, FindTest } from "../params/find-expr.ts";
import { fnmatch } from "./fnmatch.ts";

/** What a test looks at: the entry's name, depth and lstat fields. */
export interface FindSubject {
  name: string;
  depth: number;
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
}

/** -user/-group names resolved to ids (against the image's files); null: unknown, which find refuses. */
export type Resolve = (kind: "user" | "group", name: string) => number | null;

/** A -user/-group name the image does not know: the selection cannot be made. */
export class UnknownAccount extends Error {
  constructor(readonly kind: "user" | "group", readonly account: string) {
    super(`find_args -${kind} ${account}: no such ${kind} in the image's /etc/${kind === "user" ? "passwd" : "group"}`);
    this.name = "UnknownAccount";
  }
}

/** -perm: exact equality, all bits of the mask, or any bit (a mask of 0 matches everything, as GNU find). */
export function permMatches(how: "exact" | "all" | "any", mask: number, mode: number): boolean {
  const m = mode & 0o7777;
  if (how === "exact") return m === mask;
  if (how === "all") return (m & mask) === mask;
  return mask === 0 || (m & mask) !== 0;
}

function testMatches(t: FindTest, s: FindSubject, resolve: Resolve): boolean {
  switch (t.t) {
    case "perm": return permMatches(t.how, t.mask, s.mode);
    case "user": case "group": {
      const id = resolve(t.t, t.name);
      if (id === null) throw new UnknownAccount(t.t, t.name);
      return (t.t === "user" ? s.uid : s.gid) === id;
    }
    case "uid": case "gid": {
      const v = t.t === "uid" ? s.uid : s.gid;
      return t.cmp === "gt" ? v > t.n : t.cmp === "lt" ? v < t.n : v === t.n;
    }
    // GNU find's -name: fnmatch without FNM_PERIOD (a * matches a leading dot).
    case "name": return fnmatch(t.pattern, s.name);
    case "type": return s.type === t.type;
  }
}

/** Does EXPR hold for S? */
export function evaluate(expr: FindExpr, s: FindSubject, resolve: Resolve): boolean {
  switch (expr.op) {
    case "true": return true;
    case "not": return !evaluate(expr.arg, s, resolve);
    case "and": return expr.args.every((a) => evaluate(a, s, resolve));
    case "or": return expr.args.some((a) => evaluate(a, s, resolve));
    case "test": return testMatches(expr.test, s, resolve);
  }
}

/** Does the selection pick S: within the depth bounds and the expression true? */
export function selects(args: FindArgs, s: FindSubject, resolve: Resolve): boolean {
  if (s.depth < args.minDepth) return false;
  if (args.maxDepth !== null && s.depth > args.maxDepth) return false;
  return evaluate(args.expr, s, resolve);
}
