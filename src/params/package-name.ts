/**
 * Package names, versions and architectures: validated here, once, before
 * any of them reaches a package manager's command line. Two grammars:
 *
 * - Debian policy §5.6.1: a name is at least two characters of lower-case
 *   letters, digits, `+`, `-` and `.`, starting with a letter or digit. A
 *   version (§5.6.12) is `[epoch:]upstream[-revision]`: a decimal epoch,
 *   an upstream part starting with a digit of `[A-Za-z0-9.+~-]` (and `:` only
 *   with an epoch), no whitespace.
 * - RPM: names of `[A-Za-z0-9._+-]` (rpmbuild refuses whitespace and most
 *   punctuation; no distribution ships a name starting with `-` or `.`);
 *   an EVR of `[A-Za-z0-9._+~^:-]`.
 *
 * A rule may name packages with a trailing-glob pattern (`xorg-x11-server*`,
 * the reference corpus' form): `*` and `?` only, never `[`, which dpkg-query
 * and rpm would both read as a class, and after at least three literal
 * characters, so no pattern names every package. Every value here is still quoted with
 * `shellQuote` where it meets a shell; the grammar is what keeps a name from
 * being read as an option (`-e`) or a path by the package manager itself.
 */
import * as v from "valibot";

/** Debian policy package name. */
export const DEB_NAME_RE = /^[a-z0-9][a-z0-9+.-]+$/;
/** RPM package name as distributions ship them. */
export const RPM_NAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;
/** A name or a glob pattern over one (`*`, `?`): the name grammar of either manager plus wildcards. */
export const PACKAGE_PATTERN_RE = /^[A-Za-z0-9_+*?][A-Za-z0-9._+*?-]*$/;
/** Debian version: [epoch:]upstream[-revision]. */
export const DEB_VERSION_RE = /^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$/;
/** RPM [epoch:]version-release. */
export const RPM_EVR_RE = /^(?:[0-9]+:)?[A-Za-z0-9._+~^-]+$/;
/** dpkg and rpm architecture names (`amd64`, `all`, `x86_64`, `noarch`, `armhf`). */
export const ARCH_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Longest name accepted (dpkg and rpm have no hard limit; real names are under 80). */
export const MAX_PACKAGE_NAME = 128;

/** Which grammar a package database speaks. */
export type PackageFormat = "dpkg" | "rpm";

/** True when NAME is a valid package name (no wildcards) for FORMAT. */
export function isPackageName(name: string, format: PackageFormat): boolean {
  return name.length <= MAX_PACKAGE_NAME && (format === "dpkg" ? DEB_NAME_RE : RPM_NAME_RE).test(name);
}

/** True when PATTERN is a valid name or wildcard pattern for FORMAT (wildcards replaced, the rest must fit the grammar). */
export function isPackagePattern(pattern: string, format: PackageFormat): boolean {
  if (pattern.length > MAX_PACKAGE_NAME || !PACKAGE_PATTERN_RE.test(pattern)) return false;
  if (!/[*?]/.test(pattern)) return isPackageName(pattern, format);
  // A pattern starts with at least three literal characters: `**` or `?*` would name every package.
  if (!/^[^*?]{3}/.test(pattern)) return false;
  // Wildcards stand for at least one valid character; what is left must still fit the grammar.
  const probe = pattern.replace(/[*?]/g, "a");
  return isPackageName(probe, format);
}

/** True when VERSION is a valid version for FORMAT. */
export function isPackageVersion(version: string, format: PackageFormat): boolean {
  return version.length <= 256 && (format === "dpkg" ? DEB_VERSION_RE : RPM_EVR_RE).test(version);
}

/** True when ARCH is a plausible architecture name. */
export function isPackageArch(arch: string): boolean {
  return ARCH_RE.test(arch);
}

/** Does NAME match PATTERN (`*`: any run, `?`: one character; nothing else special)? */
export function matchesPackagePattern(pattern: string, name: string): boolean {
  const re = new RegExp("^" + pattern.replace(/[.+]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return re.test(name);
}

/**
 * A package name or wildcard pattern as a rule writes it: valid for dpkg OR
 * rpm (the Host checks it against the grammar of the database it finds).
 */
export const PackagePattern = v.pipe(
  v.string("package name must be a string"),
  v.maxLength(MAX_PACKAGE_NAME, `package name must be at most ${MAX_PACKAGE_NAME} characters`),
  v.check(
    (n) => isPackagePattern(n, "dpkg") || isPackagePattern(n, "rpm"),
    "package name must follow Debian policy (a-z 0-9 + - ., two or more, starting with a letter or digit) or RPM's grammar (A-Z a-z 0-9 . _ + -), optionally with * or ? wildcards",
  ),
);

/** An exact package name (no wildcards), valid for dpkg or rpm. */
export const PackageName = v.pipe(
  v.string("package name must be a string"),
  v.check((n) => isPackageName(n, "dpkg") || isPackageName(n, "rpm"), "package name must follow Debian policy or RPM's name grammar (no wildcards)"),
);

/** An exact version, valid for dpkg or rpm. */
export const PackageVersion = v.pipe(
  v.string("version must be a string"),
  v.check((s) => isPackageVersion(s, "dpkg") || isPackageVersion(s, "rpm"), "version must be a Debian version or an RPM [epoch:]version-release"),
);

/** An architecture name. */
export const PackageArch = v.pipe(v.string("arch must be a string"), v.regex(ARCH_RE, "arch must be 1-32 characters of a-z 0-9 _ -"));
