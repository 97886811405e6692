/**
 * `file_exists {path}`: does the path name something, as `test -e` sees it?
 * Symlinks are followed INSIDE the root (an absolute target is taken
 * relative to it), so a link to an existing file exists and a dangling one
 * does not; nothing outside the root is ever looked at.
 */
import * as v from "valibot";
import type { Host } from "../host/host.ts";
import { FilePath, trimSlash } from "../params/file-validators.ts";
import type { CheckMethod, CheckResult } from "./check-method.ts";
import { resolveLogical } from "./fs-gather.ts";
import { registerCheck } from "./registry.ts";

export const FileExistsParams = v.strictObject({ path: FilePath }, "file_exists takes {path}");
export type FileExistsParams = v.InferOutput<typeof FileExistsParams>;

async function run(host: Host, p: FileExistsParams): Promise<CheckResult> {
  const path = trimSlash(p.path);
  try {
    const real = await resolveLogical(host, path);
    const st = await host.statPath(real);
    const via = real === path ? "" : ` (via symlink to ${real})`;
    if (st === null) return { status: "fail", detail: `${path} does not exist${via}` };
    return { status: "pass", detail: `${path} exists${via}: ${st.type === "dir" ? "a directory" : st.type === "file" ? "a regular file" : "a special file"}` };
  } catch (e) {
    const msg = (e as Error).message;
    // A dangling chain through a missing directory, or a loop, is "does not exist" to test -e.
    if (/ENOENT|ENOTDIR|ELOOP/.test(msg)) return { status: "fail", detail: `${path} does not exist (${msg})` };
    return { status: "error", detail: `cannot look up ${path}: ${msg}` };
  }
}

export const fileExists: CheckMethod<FileExistsParams> = {
  name: "file_exists",
  params: FileExistsParams,
  uses: ["files"],
  run,
};

registerCheck(fileExists);
