/**
 * Edge validators for key/value configuration parameters (config_set,
 * config_append, config_value, file_content), shared by checks and handlers.
 *
 * Every string here ends up as a line in someone's configuration file or as
 * a path the Host opens, so a newline (a second directive), a NUL (a cut C
 * string), a relative or non-canonical path, or a path into the kernel's
 * pseudo file systems is refused once, here, naming the field.
 */
import * as v from "valibot";

/** A rule variable reference (`{{ name }}`), kept as written until a variables feature resolves it. */
export const VARIABLE_RE = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/;

/** The variable a value still names, or null: such a value is never written to a file nor compared. */
export function unresolvedVariable(s: string): string | null {
  return VARIABLE_RE.exec(s)?.[1] ?? null;
}

const canonical = (p: string): boolean =>
  p.startsWith("/") && p !== "/" && !p.endsWith("/") && p.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== "..");

/** An absolute, canonical path to a regular configuration file, outside /proc, /sys and /dev. */
export const ConfigFilePath = v.pipe(
  v.string("path must be a string"),
  v.maxLength(4096, "path is longer than 4096 characters"),
  v.check((p) => !/[\0\n\r]/.test(p), "path must not contain a NUL, newline or carriage return"),
  v.check(canonical, "path must be absolute and canonical (no ., .., // or trailing /)"),
  v.check((p) => !/^\/(?:proc|sys|dev)(?:\/|$)/.test(p), "path must not be under /proc, /sys or /dev"),
);

/** One line of text: no NUL, newline or carriage return, at most MAX characters. */
export function OneLine(field: string, max = 4096) {
  return v.pipe(
    v.string(`${field} must be a string`),
    v.maxLength(max, `${field} is longer than ${max} characters`),
    v.check((s) => !/[\0\n\r]/.test(s), `${field} must be one line (no NUL, newline or carriage return)`),
  );
}

/** A YAML scalar kept as its text: strings as written, integers as decimal text, booleans as true/false. */
export function ScalarText(field: string, max = 4096) {
  return v.pipe(
    v.union(
      [
        v.string(),
        v.pipe(v.number(), v.safeInteger(`${field} number is not an exact integer; quote it to keep its text`), v.transform(String)),
        v.pipe(v.boolean(), v.transform(String)),
      ],
      `${field} must be a string or an integer`,
    ),
    OneLine(field, max),
  );
}

/**
 * A configuration key: one line, not blank, no leading or trailing blank (a
 * key that starts with a blank or `#` would be read as something else), no
 * `=` (it would end the key early in every `=`-separated format).
 */
export const ConfigKey = v.pipe(
  OneLine("key", 256),
  v.minLength(1, "key must not be empty"),
  v.check((k) => k.trim() === k, "key must not start or end with a blank"),
  v.check((k) => !/^[#;\[]/.test(k), "key must not start with #, ; or ["),
  v.check((k) => !k.includes("="), "key must not contain ="),
);

/** A separator between key and value as written: blanks and at most one `=`, 1-8 characters. */
export const ConfigSeparator = v.pipe(
  v.string("separator must be a string"),
  v.regex(/^[ \t]*=?[ \t]*$/, "separator must be blanks and at most one = (e.g. \" \", \"=\", \" = \")"),
  v.minLength(1, "separator must not be empty"),
  v.maxLength(8, "separator is longer than 8 characters"),
);

/** A service name to reload or restart after the change: recorded and reported by this version. */
export const ServiceName = v.pipe(
  v.string("service must be a string"),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,254}$/, "service must be a unit name (A-Z a-z 0-9 _ . @ : -)"),
);

/** An INI/systemd section name, without brackets. */
export const SectionName = v.pipe(OneLine("section", 128), v.regex(/^[^\[\]]+$/, "section must not contain [ or ]"));
