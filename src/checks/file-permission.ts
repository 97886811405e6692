/**
 * `file_permission {path, mode?, owner?, group?}`: is a file at most this
 * permissive, and owned as the rule says?
 *
 * - `mode` is a MAXIMUM (CIS: "0640 or more restrictive"): 0600 passes for
 *   0640; any bit beyond it fails, setuid/setgid/sticky included — exactly
 *   when `find PATH -perm /EXCESS` would list the file (property-tested).
 * - `owner`/`group` are names of the IMAGE's /etc/passwd and /etc/group (or
 *   numbers), compared by id, as `stat -c %U` would name the owner there.
 * - The path is judged itself (lstat): a symlink's own mode means nothing,
 *   so a symlink or a device is an error (no verdict), an absent file fails.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { Account, FilePath, OctalMode, trimSlash } from "../params/file-validators.ts";
import { octal } from "../params/file-mode.ts";
import { accountLabel } from "../config/passwd.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { gatherAccounts, resolveIn } from "./accounts.ts";
import { registerCheck } from "./registry.ts";

export const FilePermissionParams = v.pipe(
  v.strictObject({ path: FilePath, mode: v.optional(OctalMode), owner: v.optional(Account), group: v.optional(Account) }, "file_permission takes {path, mode, owner, group}"),
  v.check((p) => p.mode !== undefined || p.owner !== undefined || p.group !== undefined, "file_permission needs at least one of mode, owner, group"),
);
export type FilePermissionParams = v.InferOutput<typeof FilePermissionParams>;

/** The bits MODE has beyond MAX (0: within it). */
export const excessBits = (mode: number, max: number): number => mode & ~max & 0o7777;

async function run(host: Host, p: FilePermissionParams): Promise<CheckResult> {
  const path = trimSlash(p.path);
  let st, accounts;
  try {
    st = await host.statPath(path);
    accounts = await gatherAccounts(host);
  } catch (e) {
    return { status: "error", detail: `cannot read ${path}: ${(e as Error).message}` };
  }
  if (st === null) return { status: "fail", detail: `${path} is absent` };
  if (st.type === "symlink" || st.type === "other") {
    return { status: "error", detail: `${path} is ${st.type === "symlink" ? "a symlink" : "not a regular file or directory"}: its permissions are not judged through it` };
  }
  const problems: string[] = [];
  const facts: string[] = [];
  if (p.mode !== undefined) {
    const max = parseInt(p.mode, 8);
    const extra = excessBits(st.mode, max);
    if (extra) problems.push(`mode ${octal(st.mode)} allows ${octal(extra)} beyond the maximum ${octal(max)}`);
    else facts.push(`mode ${octal(st.mode)} (at most ${octal(max)})`);
  }
  for (const [kind, want, have] of [["user", p.owner, st.uid], ["group", p.group, st.gid]] as const) {
    if (want === undefined) continue;
    const table = kind === "user" ? accounts.users : accounts.groups;
    const label = kind === "user" ? "owner" : "group";
    const id = resolveIn(accounts, kind, want);
    if (id === null) problems.push(`${label} ${want}: no such ${kind} in the image's /etc/${kind === "user" ? "passwd" : "group"} (${label} now ${accountLabel(table, have)})`);
    else if (id !== have) problems.push(`${label} is ${accountLabel(table, have)}, not ${accountLabel(table, id)}`);
    else facts.push(`${label} ${accountLabel(table, have)}`);
  }
  return problems.length
    ? { status: "fail", detail: `${path}: ${[...problems, ...facts].join("; ")}` }
    : { status: "pass", detail: `${path}: ${facts.join(", ")}` };
}

export const filePermission: CheckMethod<FilePermissionParams> = {
  name: "file_permission",
  params: FilePermissionParams,
  uses: ["files"],
  run,
};

registerCheck(filePermission);
