/**
 * File modes as rules write them: octal ("0640", "640", "2755") or chmod(1)
 * symbolic clauses ("go-w", "o-r", "+t", "g-w,o-rwx"). Parsed into plain data
 * once; `applyMode` computes the new permission bits from the current ones.
 *
 * Semantics
 * - An octal mode is a MAXIMUM (CIS: "0640 or more restrictive"): applying it
 *   clears the bits the current mode has beyond it and never grants one
 *   (0644 under 0640 becomes 0640; 0600 stays 0600).
 * - Symbolic clauses act as GNU chmod(1) with a `who` given (which keeps a
 *   directory's setuid/setgid under `=` unless `s` is named): `+` adds, `-`
 *   removes, `=` sets the who's bits; `X` is x for a directory or a mode with
 *   some x already; `s` is setuid (u) / setgid (g); `t` is sticky. An empty
 *   who means `a`, and is accepted only for `s` and `t` (chmod would mask r,
 *   w and x by the umask, which a rule cannot know).
 */

export type ModeSpec =
  | { kind: "max"; mode: number }
  | { kind: "symbolic"; clauses: SymbolicClause[] };

export interface SymbolicClause {
  who: string;
  op: "+" | "-" | "=";
  perms: string;
}

const OCTAL_RE = /^0?[0-7]{3,4}$/;
const CLAUSE_RE = /^([ugoa]*)([-+=])([rwxXst]*)$/;

/** Parse a mode as written in a rule; a string says what is wrong (the field name is the caller's). */
export function parseMode(text: string): ModeSpec | string {
  if (OCTAL_RE.test(text)) {
    const mode = parseInt(text, 8);
    return mode <= 0o7777 ? { kind: "max", mode } : `mode ${text} is over 07777`;
  }
  if (text.length === 0 || text.length > 64) return `mode must be octal (0640) or symbolic (go-w), not ${JSON.stringify(text.slice(0, 64))}`;
  const clauses: SymbolicClause[] = [];
  for (const c of text.split(",")) {
    const m = CLAUSE_RE.exec(c);
    if (!m) return `mode clause ${JSON.stringify(c)} is neither octal nor chmod symbolic ([ugoa]*[-+=][rwxXst]*)`;
    const [, who, op, perms] = m as unknown as [string, string, "+" | "-" | "=", string];
    if (who === "" && /[rwxX]/.test(perms)) return `mode clause ${JSON.stringify(c)} needs u, g, o or a before ${op} (chmod would apply the umask)`;
    clauses.push({ who: who === "" ? "a" : who, op, perms });
  }
  return { kind: "symbolic", clauses };
}

/** True when TEXT is a mode parseMode accepts. */
export const isMode = (text: string): boolean => typeof parseMode(text) !== "string";

/** Bits of PERMS for WHO (r w x s t; X decided by the caller). */
function bitsFor(who: string, perms: string, xApplies: boolean): number {
  const users = who.includes("a") ? "ugo" : who;
  let b = 0;
  for (const u of users) {
    const shift = u === "u" ? 6 : u === "g" ? 3 : 0;
    if (perms.includes("r")) b |= 4 << shift;
    if (perms.includes("w")) b |= 2 << shift;
    if (perms.includes("x") || (perms.includes("X") && xApplies)) b |= 1 << shift;
    if (perms.includes("s") && u === "u") b |= 0o4000;
    if (perms.includes("s") && u === "g") b |= 0o2000;
  }
  if (perms.includes("t") && (users.includes("o") || who.includes("a"))) b |= 0o1000;
  return b;
}

/** Every bit a WHO owns (for `=`): its rwx, plus s for u/g and t for o. */
function whoMask(who: string): number {
  return bitsFor(who, "rwxst", true);
}

/** The mode after applying SPEC to CURRENT (0..0o7777) of a file or directory. */
export function applyMode(spec: ModeSpec, current: number, isDir: boolean): number {
  if (spec.kind === "max") return current & spec.mode;
  let m = current & 0o7777;
  for (const c of spec.clauses) {
    const xApplies = isDir || (m & 0o111) !== 0;
    const b = bitsFor(c.who, c.perms, xApplies);
    if (c.op === "+") m |= b;
    else if (c.op === "-") m &= ~b;
    // GNU chmod: `=` keeps a directory's setuid/setgid unless the clause names s.
    else m = (m & ~(whoMask(c.who) & (isDir && !c.perms.includes("s") ? ~0o6000 : ~0))) | b;
  }
  return m & 0o7777;
}

/** The mode as four octal digits ("0640"), for messages. */
export const octal = (mode: number): string => mode.toString(8).padStart(4, "0");
