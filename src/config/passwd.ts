/**
 * /etc/passwd and /etc/group of an image, as getpwnam(3)/getgrnam(3) read
 * them with the files backend: colon-separated lines, the FIRST entry with a
 * name wins, comments (`#`), blank lines and malformed lines are skipped, NIS
 * `+`/`-` compat lines are ignored. Bytes in, maps out, no IO: the names of a
 * rule are resolved against the image being changed, never this machine.
 */

/** Name → id, first entry winning; ids → first name, for messages. */
export interface Accounts {
  byName: ReadonlyMap<string, number>;
  byId: ReadonlyMap<number, string>;
}

/** Parse passwd(5) (ID_FIELD 2) or group(5) (also field 2) text. */
function parse(text: string): Accounts {
  const byName = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    const f = line.split(":");
    if (f.length < 3 || f[0] === "" || !/^\d{1,10}$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (id > 0xfffffffe) continue;
    if (!byName.has(f[0]!)) byName.set(f[0]!, id);
    if (!byId.has(id)) byId.set(id, f[0]!);
  }
  return { byName, byId };
}

/** Users of an /etc/passwd text. */
export const parsePasswd = (text: string): Accounts => parse(text);
/** Groups of an /etc/group text. */
export const parseGroup = (text: string): Accounts => parse(text);

/** The id NAME stands for: a number is itself (as chown reads it when no such name exists), else the first entry; null when unknown. */
export function resolveAccount(a: Accounts, name: string): number | null {
  const hit = a.byName.get(name);
  if (hit !== undefined) return hit;
  return /^\d{1,10}$/.test(name) && Number(name) <= 0xfffffffe ? Number(name) : null;
}

/** "name (id)" or "id" for messages. */
export const accountLabel = (a: Accounts, id: number): string => (a.byId.has(id) ? `${a.byId.get(id)} (${id})` : String(id));
