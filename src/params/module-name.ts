/**
 * Module names: the one place the `-`/`_` equivalence is applied. kmod treats
 * both spellings as one name; the kernel (/proc/modules, delete_module) only
 * knows the `_` form.
 */
/**
 * `[A-Za-z0-9_-]`, 1–55 characters: the kernel's MODULE_NAME_LEN is 56 on
 * 64-bit including the NUL, so a longer name can never be loaded.
 */
export const MODULE_NAME_RE = /^[A-Za-z0-9_-]{1,55}$/;

export function isValidModuleName(name: string): boolean {
  return MODULE_NAME_RE.test(name);
}

/** The kernel spelling of NAME (`usb-storage` → `usb_storage`). Throws on an invalid name. */
export function kernelModuleName(name: string): string {
  if (!isValidModuleName(name)) throw new Error(`invalid module name ${JSON.stringify(name)}`);
  return name.replaceAll("-", "_");
}

/** Loaded module names from /proc/modules text (first field of each line, already `_`). */
export function parseProcModules(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split(" ", 1)[0];
    if (name) out.add(name);
  }
  return out;
}
