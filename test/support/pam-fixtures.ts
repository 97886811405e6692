/** Debian 12's stock /etc/pam.d (login, passwd, util-linux su, pam-auth-update's common-*), copied from a Debian 12 system. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DEBIAN12_PAM = join(import.meta.dir, "../fixtures/pam/debian12");

/** File name → latin1 content of each stock file. */
export function debian12Pam(): Record<string, string> {
  return Object.fromEntries(readdirSync(DEBIAN12_PAM).map((f) => [f, readFileSync(join(DEBIAN12_PAM, f), "latin1")]));
}
