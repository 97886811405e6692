/**
 * systemd unit names (src/basic/unit-name.c of systemd 252): what a rule
 * may name, checked before the name reaches a path, a link or a command.
 */
import * as v from "valibot";

const UNIT_TYPES = ["service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope"];
const NAME_CHARS = /^[A-Za-z0-9:\-_.\\@]+$/;

export type NameKind = "plain" | "template" | "instance";

/** The kind of a unit name, or null when systemd would reject it (length, characters, suffix, '@' placement). */
export function unitNameKind(name: string): NameKind | null {
  if (name.length === 0 || name.length > 255 || !NAME_CHARS.test(name)) return null;
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || !UNIT_TYPES.includes(name.slice(dot + 1))) return null;
  const stem = name.slice(0, dot);
  const at = stem.indexOf("@");
  if (at < 0) return "plain";
  if (at === 0) return null;
  if (stem.indexOf("@", at + 1) >= 0) return null;
  return at === stem.length - 1 ? "template" : "instance";
}

/** A rule's unit as systemctl reads it: "cron" means cron.service (systemctl adds .service to a name without a unit suffix). */
export function canonicalUnitName(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && UNIT_TYPES.includes(name.slice(dot + 1)) ? name : `${name}.service`;
}

/**
 * A unit a rule may act on: a plain or instance name (a template names no
 * unit that runs), systemd's characters only, "-" never first (it would read
 * as an option). Output: the canonical name with its suffix.
 */
export const UnitName = v.pipe(
  v.string("a unit name must be a string"),
  v.check((s) => !s.startsWith("-"), "a unit name must not start with '-'"),
  v.transform(canonicalUnitName),
  v.check((s) => {
    const k = unitNameKind(s);
    return k === "plain" || k === "instance";
  }, "not a systemd unit name (letters, digits, ':-_.\\@', a known suffix such as .service; not a template foo@.service)"),
);
