/**
 * Edge validators for kernel names and values, as valibot schemas.
 *
 * These strings end up in drop-in files (`install NAME /bin/false`,
 * `KEY = VALUE`) and in /proc/sys paths, so anything that could add a
 * directive (newline), cut a C string (NUL), climb a path (`..`) or be read
 * by kmod/procps as something else is refused here, once, with a message
 * naming the field. Everything downstream may assume these shapes.
 */
import * as v from "valibot";

// Module names: the pattern and THE `-`→`_` normalisation live in the host
// layer (the Host applies them before delete_module); re-exported here so the
// edge validators and the checks share the one definition.
import { MODULE_NAME_RE, kernelModuleName } from "../host/module-name.ts";
export { MODULE_NAME_RE, kernelModuleName };

/** A module name as written in a rule (either spelling). */
export const ModuleName = v.pipe(
  v.string("module name must be a string"),
  v.regex(MODULE_NAME_RE, "module name must be 1-55 characters of A-Z a-z 0-9 _ -"),
);

/**
 * A sysctl key in either spelling procps accepts: dotted
 * (`net.ipv4.conf.eth0/100.rp_filter`, where `/` stands for a literal dot) or
 * slashed (`net/ipv4/conf/eth0.100/rp_filter`). Segments are
 * `[A-Za-z0-9_-]+`; empty segments (hence `..`, `//`, a leading or trailing
 * separator) are refused, as are globs and a leading `-` (procps reads that as
 * "ignore errors", not as part of the name).
 */
export const SYSCTL_KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_-]+)*$/;

export const SysctlKey = v.pipe(
  v.string("sysctl key must be a string"),
  v.maxLength(255, "sysctl key is longer than 255 characters"),
  v.regex(SYSCTL_KEY_RE, "sysctl key must be segments of A-Z a-z 0-9 _ - separated by '.' or '/', with no empty segment"),
  // /proc/sys/fs/binfmt_misc is another file system (binfmt_misc) mounted there: its "register" file
  // installs an interpreter the kernel runs for matching binaries. Never a sysctl, in either spelling.
  v.check((k) => !/^fs[./]binfmt_misc(?:[./]|$)/.test(k), "sysctl key under fs.binfmt_misc is not a sysctl: /proc/sys/fs/binfmt_misc is the binfmt_misc file system"),
);

/**
 * A sysctl value: printable ASCII and tabs, without newline, carriage return
 * or NUL (a newline would start a new `key = value` line in a drop-in).
 * Non-ASCII is refused: the kernel's values are ASCII, and a UTF-8 value
 * would be compared against the latin1 bytes read back, so it could never
 * pass. Numbers written in YAML (`expected: 1`) are accepted when they are
 * exact integers and kept as their decimal text (the loader has already
 * refused any whose written text differs, such as `1e23`).
 * Leading and trailing whitespace is dropped, as procps does when it reads a
 * value from a file.
 */
export const SysctlValue = v.pipe(
  v.union(
    [
      v.string(),
      v.pipe(
        v.number(),
        v.safeInteger("sysctl value number is not an exact integer; quote it to keep its text"),
        v.transform(String),
      ),
    ],
    "sysctl value must be a string or an integer",
  ),
  v.check((s) => !/[\n\r\0]/.test(s), "sysctl value must not contain a newline, carriage return or NUL"),
  v.check((s) => !/[^\x00-\x7e]/.test(s), "sysctl value must be printable ASCII (the kernel reads bytes; a non-ASCII value could never match)"),
  v.transform((s) => s.trim()),
  v.minLength(1, "sysctl value must not be empty"),
  v.maxLength(4096, "sysctl value is longer than 4096 characters"),
);
