/**
 * Property test: our fstab model and edits against util-linux itself.
 *
 * For each of N seeded random fstab files (comments, indented comments,
 * blank lines, CRLF, tabs, octal escapes, duplicate targets spelled with
 * extra slashes, lines with 1–8 fields, bad freq/passno, quoted options with
 * commas and "=", empty items, dev/nodev mixes, no final newline):
 * - `findmnt -s --tab-file F -J -o TARGET,OPTIONS` lists exactly our entries
 *   (target and options), and its "parse error at line N" lines are ours;
 * - `findmnt -s --tab-file F -O +NAME` (libmount's own option splitter)
 *   selects exactly the entries where we find an option named NAME;
 * - `findmnt -s --tab-file F -f --mountpoint MP` picks the entry we say wins;
 * - after our edit for a random mount point (options appended, or the tmpfs
 *   line added), findmnt agrees with our model of the new file, reports no
 *   new parse error and `findmnt --verify` no new error; only the edited
 *   line (or the appended one) differs; and removeOptions undoes the edit
 *   byte for byte.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addOptions, appendLine, effectiveFlags, entryFor, MOUNT_FLAG_OPTIONS, parseFstab, removeOptions, splitOptions, tmpfsLine, type MountFlagOption } from "../../src/config/fstab.ts";
import { type Prng, prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 500);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 20261201);
const findmnt = Bun.which("findmnt");
const base = mkdtempSync(join(tmpdir(), "bulwark-fstab-prop-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Mount points a rule names; real directories here, so findmnt's canonical lookup cannot find other spellings. */
const MOUNT_POINTS = ["/tmp", "/var/tmp", "/home", "/dev/shm"];
const TARGETS = ["/tmp", "/tmp/", "//tmp", "/var/tmp", "/var//tmp/", "/home", "/dev/shm", "/dev/shm/", "/srv/a\\040b", "/mnt/x\\011y", "none", "/boot"];
const SOURCES = ["/dev/sda1", "UUID=1234-ABCD", "tmpfs", "LABEL=a\\040b", "none", "proc", "\\134x"];
const TYPES = ["ext4", "tmpfs", "xfs", "auto", "none", "swap", "n\\040fs"];
const OPTS = ["defaults", "rw", "ro", "nodev", "dev", "nosuid", "suid", "noexec", "exec", "noatime", "size=2G", "mode=1777", 'context="a,b"', "x=\"y=z\"", "user", "", "nodev=1", '"nodev"', "uid=0", "\\054nodev", "x\\040y"];
const NUMS = ["0", "1", "2", "-1", "+3", "x", "1x", "007", "99999999999999999999999"];

const ws = (r: Prng) => r.pick([" ", "\t", "  ", " \t", "\t\t"]);

function options(r: Prng): string {
  const n = 1 + r.int(5);
  const items = Array.from({ length: n }, () => r.pick(OPTS));
  let s = items.join(",");
  if (r.chance(0.1)) s = "," + s;
  if (r.chance(0.05)) s += ',"unclosed,nodev';
  return s || "defaults";
}

function entryLine(r: Prng): string {
  const f = [r.pick(SOURCES), r.pick(TARGETS), r.pick(TYPES), options(r), r.pick(NUMS), r.pick(NUMS)];
  const roll = r.next();
  // Mostly complete, well-formed lines; sometimes 1–5 fields, or extra ones.
  const n = roll < 0.6 ? (r.chance(0.85) ? 6 : 4) : roll < 0.85 ? 3 + r.int(4) : roll < 0.95 ? 1 + r.int(2) : 7 + r.int(2);
  const parts = Array.from({ length: n }, (_, i) => f[i] ?? "extra");
  if (n >= 5 && r.chance(0.7)) parts[4] = "0";
  if (n >= 6 && r.chance(0.7)) parts[5] = r.pick(["0", "1", "2"]);
  let line = (r.chance(0.1) ? ws(r) : "") + parts.map((p, i) => (i ? ws(r) : "") + p).join("");
  if (r.chance(0.05)) line += ws(r);
  return line;
}

function randomFstab(r: Prng): string {
  const lines: string[] = [];
  const n = r.int(10);
  for (let i = 0; i < n; i++) {
    const k = r.next();
    if (k < 0.15) lines.push(r.pick(["# comment", "#/dev/sda1 /tmp ext4 nodev 0 0", "  # indented", "\t#x"]));
    else if (k < 0.22) lines.push(r.pick(["", "  ", "\t"]));
    else lines.push(entryLine(r));
  }
  const eol = r.chance(0.1) ? "\r\n" : "\n";
  let text = lines.join(eol);
  if (lines.length && r.chance(0.85)) text += eol;
  return text;
}

type Listed = { target: string; options: string | null };

function run(args: string[]): { out: string; err: string } {
  const p = Bun.spawnSync([findmnt!, ...args], { stdout: "pipe", stderr: "pipe" });
  return { out: p.stdout.toString(), err: p.stderr.toString() };
}

function listed(file: string, extra: string[] = []): { list: Listed[]; parseErrors: number[] } {
  const r = run(["-s", "--tab-file", file, "-J", "-o", "TARGET,OPTIONS", ...extra]);
  const list = r.out.trim() ? (JSON.parse(r.out).filesystems as Listed[]) : [];
  const parseErrors = [...r.err.matchAll(/parse error at line (\d+)/g)].map((m) => Number(m[1]));
  return { list, parseErrors: [...new Set(parseErrors)] };
}

/** Lines of `findmnt --verify` that report an error, for comparison before and after an edit. */
function verifyErrors(file: string): string[] {
  const r = run(["--verify", "--tab-file", file]);
  return (r.out + r.err).split("\n").filter((l) => l.includes("[E]") || l.includes("parse error"));
}

const byLatin1 = (s: string) => Buffer.from(s, "latin1");
const model = (text: string) => parseFstab(text).entries.map((e) => ({ target: e.target, options: e.options }));
const sameList = (a: Listed[]) => a.map((e) => ({ target: e.target, options: e.options ?? null }));

test.skipIf(!prerequisite("findmnt (util-linux)", findmnt !== null))(
  `fstab/AC-09: on ${TREES} random fstab files findmnt agrees with our entries, option splitting, winning entry and edits (0 disagreements)`,
  () => {
    const r = prng(SEED);
    const disagreements: string[] = [];
    let edits = 0;
    let appended = 0;
    let refused = 0;
    for (let t = 0; t < TREES; t++) {
      const text = randomFstab(r);
      const file = join(base, `fstab-${t}`);
      writeFileSync(file, byLatin1(text));
      const fs = parseFstab(text);
      const got = listed(file);
      const why = (what: string, a: unknown, b: unknown) => disagreements.push(`tree ${t} (seed ${SEED}): ${what}: findmnt ${JSON.stringify(a)} ours ${JSON.stringify(b)}\n${JSON.stringify(text)}`);
      if (!Bun.deepEquals(sameList(got.list), model(text))) why("entries", got.list, model(text));
      const ourErrors = fs.errors.map((e) => e.line);
      if (!Bun.deepEquals(got.parseErrors, ourErrors)) why("parse errors", got.parseErrors, ourErrors);
      const name = r.pick(["nodev", "dev", "nosuid", "defaults", "size"]);
      const sel = listed(file, ["-O", `+${name}`]).list.map((e) => e.target);
      const ours = fs.entries.filter((e) => splitOptions(e.options ?? "").some((o) => o.name === name)).map((e) => e.target);
      if (!Bun.deepEquals(sel, ours)) why(`-O +${name}`, sel, ours);

      const mp = r.pick(MOUNT_POINTS);
      const first = run(["-s", "--tab-file", file, "-f", "-J", "-o", "TARGET,OPTIONS", "--mountpoint", mp]).out.trim();
      const winner = first ? (JSON.parse(first).filesystems[0] as Listed) : null;
      const e = entryFor(fs, mp);
      const ourWinner = e ? { target: e.target, options: e.options } : null;
      if (!Bun.deepEquals(winner ? sameList([winner])[0] : null, ourWinner)) why(`winner for ${mp}`, winner, ourWinner);

      // The edit, judged by findmnt again.
      const want = MOUNT_FLAG_OPTIONS.filter(() => r.chance(0.6));
      const opts: MountFlagOption[] = want.length ? want : ["nodev"];
      const before = verifyErrors(file);
      let next: string;
      if (e && (e.options?.match(/"/g) ?? []).length % 2) {
        // Appending inside an unclosed quote would be swallowed: the edit must refuse, naming the line.
        expect(() => addOptions(text, e.line, opts)).toThrow(`fstab line ${e.line}: its options field`);
        refused++;
        continue;
      } else if (e) {
        next = addOptions(text, e.line, opts);
        edits++;
        const added = opts.filter((o) => !effectiveFlags(e.options)[o]);
        const back = added.length ? removeOptions(next, e.line, added) : next;
        if (back !== text) why("removeOptions(addOptions(x))", text, back);
        const changed = next.split("\n").map((l, i) => (l === text.split("\n")[i] ? -1 : i + 1)).filter((i) => i > 0);
        if (changed.some((l) => l !== e.line)) why("lines changed", changed, [e.line]);
      } else {
        next = appendLine(text, tmpfsLine(mp, opts));
        appended++;
        if (!next.startsWith(text)) why("append kept the old bytes", text, next);
      }
      writeFileSync(file, byLatin1(next));
      const after = listed(file);
      if (!Bun.deepEquals(sameList(after.list), model(next))) why("entries after edit", after.list, model(next));
      if (!Bun.deepEquals(after.parseErrors, got.parseErrors)) why("parse errors after edit", after.parseErrors, got.parseErrors);
      const eff = entryFor(parseFstab(next), mp);
      if (!eff || opts.some((o) => !effectiveFlags(eff.options)[o])) why("flags after edit", eff, opts);
      const newErrors = verifyErrors(file).filter((l) => !before.includes(l));
      if (newErrors.length) why("findmnt --verify errors after edit", newErrors, []);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(edits + appended + refused).toBe(TREES);
    expect(edits).toBeGreaterThan(TREES / 4);
    expect(appended).toBeGreaterThan(TREES / 10);
  },
  600_000,
);
