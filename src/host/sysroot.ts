/**
 * Sysroot mapping: a logical absolute path ("/etc/modprobe.d/x.conf") becomes
 * components resolved under the Host's root. `..`, `.`, empty components and
 * NUL are refused here, so no logical path can name anything outside the root.
 */
import { BulwarkError } from "../errors.ts";
import { resolve } from "node:path";

export class InvalidPath extends BulwarkError {
  constructor(readonly path: string, why: string) {
    super(`invalid path ${JSON.stringify(path)}: ${why}`);
    this.name = "InvalidPath";
  }
}

/** Split and check a logical path. Throws InvalidPath; never touches the disk. */
export function pathComponents(logical: string): string[] {
  if (!logical.startsWith("/")) throw new InvalidPath(logical, "must be absolute");
  if (/[\0\n]/.test(logical)) throw new InvalidPath(logical, "contains NUL or newline");
  const parts = logical.split("/").slice(1);
  if (parts.length === 1 && parts[0] === "") return [];
  for (const p of parts) {
    if (p === "" || p === "." || p === "..") throw new InvalidPath(logical, `component ${JSON.stringify(p)} not allowed`);
    if (Buffer.byteLength(p) > 255) throw new InvalidPath(logical, "component longer than 255 bytes");
  }
  return parts;
}

/** The real path of LOGICAL under ROOT (for messages and the shell path). */
export function mapUnder(root: string, logical: string): string {
  const parts = pathComponents(logical);
  const base = resolve(root);
  return base === "/" ? "/" + parts.join("/") : base + (parts.length ? "/" + parts.join("/") : "");
}

/** Normalise the operator's --root: absolute, no trailing slash; "/" means the live host. */
export function normaliseRoot(root: string | undefined): string {
  return resolve(root ?? "/");
}
