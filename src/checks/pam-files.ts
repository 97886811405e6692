/**
 * Read what libpam may read for a service: every file in /etc/pam.d and
 * /usr/lib/pam.d (a few dozen small files), then any absolute include path
 * a stack names, through the Host (symlinks resolved inside the root).
 */
import type { Host } from "../host/host.ts";
import { PAM_DIRS, PAM_MAX_INCLUDE_LEVEL, pamServiceFor, pamStack, type PamStack, type PamType } from "../config/pam.ts";
import { gatherDirs, gatherFile } from "./fs-gather.ts";

/** Logical path → latin1 content of every PAM file found. */
export async function gatherPam(host: Host): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const d of await gatherDirs(host, PAM_DIRS, () => true)) {
    for (const f of d.files) files.set(`${d.path}/${f.name}`, f.content);
  }
  return files;
}

/**
 * The stack for SERVICE (Debian's common-<type> standing in for
 * system-auth/password-auth, config/pam.ts pamServiceFor) and TYPE, after
 * fetching the absolute include paths it names. Returns the files too, for
 * a handler that plans edits on them.
 */
export async function gatherPamStack(host: Host, service: string, type: PamType): Promise<{ files: Map<string, string>; service: string; stack: PamStack }> {
  const files = await gatherPam(host);
  const svc = pamServiceFor(files, service, type);
  let stack = pamStack(files, svc, type);
  for (let i = 0; i < PAM_MAX_INCLUDE_LEVEL; i++) {
    const fetch = stack.missing.filter((m) => m.startsWith("/") && !files.has(m));
    if (!fetch.length) break;
    for (const m of fetch) {
      // libpam cannot open it either (a directory, unreadable): it installs an always-failing handler, as pamStack says.
      const c = await gatherFile(host, m).catch(() => null);
      if (c === null) continue;
      files.set(m, c);
    }
    if (fetch.every((m) => !files.has(m))) break;
    stack = pamStack(files, svc, type);
  }
  return { files, service: svc, stack };
}
