/**
 * Edge validators for file-metadata rules (file_permissions, file_permission,
 * file_exists): absolute paths, modes, user and group names. Refused here,
 * once, naming the field; downstream code may assume these shapes.
 */
import * as v from "valibot";
import { parseMode } from "./file-mode.ts";
import { ACCOUNT_RE } from "./find-expr.ts";

/** Absolute, no "." or ".." component, no "//", no NUL or newline; one trailing "/" is allowed (a directory, as find takes it). */
export function isAbsoluteFilePath(p: string): boolean {
  if (!p.startsWith("/") || p.length > 4096 || /[\0\n]/.test(p)) return false;
  const t = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
  return t === "/" || t.slice(1).split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

/** P without a trailing "/" (the root stays "/"). */
export const trimSlash = (p: string): string => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p);

/** An absolute file path as a rule writes it. */
export const FilePath = v.pipe(
  v.string("path must be a string"),
  v.check(isAbsoluteFilePath, "path must be absolute, without . or .. components, // or newline"),
);

/** A mode: octal ("0640", a maximum) or chmod symbolic ("go-w"); a number is refused (YAML reads 0640 as 640). */
export const FileMode = v.pipe(
  v.string("mode must be a quoted string such as \"0640\" or \"go-w\" (an unquoted 0640 is the number 640)"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const r = parseMode(dataset.value);
    if (typeof r === "string") addIssue({ message: r });
  }),
);

/** An octal mode only (a check's maximum): "0640". */
export const OctalMode = v.pipe(
  v.string("mode must be a quoted octal string such as \"0640\""),
  v.regex(/^0?[0-7]{3,4}$/, "mode must be octal, such as \"0640\" (the most permissive mode that passes)"),
);

/** A user or group as chown takes it: a name of the image's passwd/group, or a number. */
export const Account = v.pipe(
  v.string("owner/group must be a name or a number in quotes"),
  v.regex(ACCOUNT_RE, "owner/group must be a user/group name ([A-Za-z_][A-Za-z0-9_.-]*) or a number"),
);
