/**
 * The image's users and groups, read through the Host: /etc/passwd and
 * /etc/group of the root being checked or changed, never this machine's
 * (on an offline image the two differ, and a name must mean what it means
 * to the image's own chown and sshd).
 */
import type { Host } from "../host/host.ts";
import { parseGroup, parsePasswd, resolveAccount, type Accounts } from "../config/passwd.ts";
import { gatherFile } from "./fs-gather.ts";

/** Users and groups of the Host's root; an absent file is empty (only numeric ids resolve then). */
export interface ImageAccounts {
  users: Accounts;
  groups: Accounts;
}

/** Read /etc/passwd and /etc/group of the Host's root. Throws with the cause when one exists but cannot be read. */
export async function gatherAccounts(host: Host): Promise<ImageAccounts> {
  const [passwd, group] = [await gatherFile(host, "/etc/passwd"), await gatherFile(host, "/etc/group")];
  return { users: parsePasswd(passwd ?? ""), groups: parseGroup(group ?? "") };
}

/** Resolve a user (kind "user") or group name of the image; null when the image does not know it. */
export function resolveIn(a: ImageAccounts, kind: "user" | "group", name: string): number | null {
  return resolveAccount(kind === "user" ? a.users : a.groups, name);
}
