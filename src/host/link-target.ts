/** Validating a symlink's target before either Host stores it. */
import { HostIoError } from "./host.ts";

/** Throws HostIoError EINVAL naming PATH unless TARGET is a non-empty string under PATH_MAX without NUL or newline. */
export function checkLinkTarget(path: string, target: unknown): string {
  if (typeof target !== "string" || target.length === 0 || /[\0\n]/.test(target) || Buffer.byteLength(target) > 4095) {
    throw new HostIoError("symlink", path, "EINVAL", `link target ${JSON.stringify(String(target)).slice(0, 60)} must be 1..4095 bytes without NUL or newline; nothing changed`);
  }
  return target;
}
