/**
 * Valibot shapes of the PAM check's and mechanisms' parameters, as the
 * reference corpus writes them. These strings end up in /etc/pam.d lines, so
 * each is refused here when libpam could read it as anything else: a module
 * or service name is one plain token, an argument one token that reads back
 * as itself (config/pam.ts pamArgSpelling), a control a keyword or a
 * bracket list `_pam_parse_control` accepts.
 */
import * as v from "valibot";
import { PAM_CONTROL_KEYWORDS, PAM_TYPES, pamArgSpelling, pamControlError, pamTokens } from "../config/pam.ts";

/** A module as rules name it: `pam_unix.so` (a file name, matched against the last component of a line's path). */
export const PamModule = v.pipe(
  v.string("module must be a string"),
  v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}\.so$/, "module must be a file name like pam_unix.so (A-Z a-z 0-9 _ . + -, ending .so)"),
);

/** A service: a file name in /etc/pam.d. */
export const PamService = v.pipe(
  v.string("service must be a string"),
  v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,99}$/, "service must be a file name in /etc/pam.d (A-Z a-z 0-9 _ . + @ -, not hidden)"),
);

/** A PAM file path a rule may name: /etc/pam.d/NAME. */
export const PamFilePath = v.pipe(
  v.string("files entries must be strings"),
  v.regex(/^\/etc\/pam\.d\/[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,99}$/, "files entries must be /etc/pam.d/NAME"),
);

export const PamTypeSchema = v.picklist(PAM_TYPES, `type must be one of ${PAM_TYPES.join(", ")}`);

/** One module argument (`flag` or `key=value`) that libpam reads back as exactly itself. */
export const PamArg = v.pipe(
  v.string("arg must be a string"),
  v.maxLength(1024, "arg must be at most 1024 characters"),
  v.check((a) => pamArgSpelling(a) !== null, "arg must be one module argument libpam reads back as written (no #, newline, NUL, or \\ before ])"),
);

/** Space-separated args as the corpus writes them (`"preauth silent"`), or a list. */
export const PamArgs = v.pipe(
  v.union([v.string(), v.array(v.string())], "args must be a string or a list of strings"),
  v.transform((a) => (typeof a === "string" ? pamTokens(a).map((t) => t.value) : a)),
  v.maxLength(32, "args must list at most 32 arguments"),
  v.check((as) => as.every((a) => pamArgSpelling(a) !== null), "every arg must be one module argument libpam reads back as written"),
);

/** A control: required, requisite, optional, sufficient (any case), or `[code=action …]`. */
export const PamControl = v.pipe(
  v.string("control must be a string"),
  v.maxLength(512, "control must be at most 512 characters"),
  v.check((c) => {
    if ((PAM_CONTROL_KEYWORDS as readonly string[]).includes(c.toLowerCase())) return true;
    const m = /^\[([^\]#\n\r\0]*)\]$/.exec(c);
    return m !== null && m[1]!.trim() !== "" && pamControlError(m[1]!) === null;
  }, "control must be required, requisite, optional, sufficient, or a [code=action ...] list libpam accepts"),
);

/** A regular expression over one argument (anchored at both ends when used). */
export const PamArgRegex = v.pipe(
  v.string(),
  v.maxLength(256, "arg regex must be at most 256 characters"),
  v.check((s) => {
    try {
      new RegExp(`^(?:${s})$`);
      return true;
    } catch {
      return false;
    }
  }, "arg is not a valid regular expression"),
);
