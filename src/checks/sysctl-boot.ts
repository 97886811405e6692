/**
 * The persistent half of a sysctl verdict: what the boot-time loaders leave
 * for a key, judged three ways, and which lines decided.
 *
 * Why three judges: procps (`sysctl --system`) and systemd-sysctl (the loader
 * that really runs at boot on Debian, Ubuntu and RHEL) read the same
 * directories differently (exclusion lines, hidden files, /etc/sysctl.conf),
 * and auditors (OpenSCAP/SSG, CIS scripts) fail a host when ANY file read at
 * boot assigns the key a wrong value, even one that is overridden later. A
 * rule passes only when procps's value, systemd-sysctl's value and every
 * explicit assignment either of them reads all satisfy the comparison.
 * Glob lines are judged through the effective values only: auditors' line
 * matches do not see them, and an explicit key always beats a glob.
 */
import type { Host } from "../host/host.ts";
import { effectiveSysctl, evaluateSysctl, isSysctlConfName, SYSCTL_CONF, SYSCTL_DIRS } from "../config/sysctl.ts";
import { effectiveSystemdSysctl, evaluateSystemdSysctl } from "../config/systemd-sysctl.ts";
import type { ConfDir } from "../config/modprobe.ts";
import { gatherDirs, gatherFile } from "./fs-gather.ts";

/** The value test of the rule: true/false, or a reason no verdict is possible. */
export type SysctlJudge = (value: string) => boolean | string;

/** One line that names the key with a value that fails the rule. */
export interface SysctlConflict {
  file: string;
  line: number;
  value: string;
}

/** The gathered input both models read: the sysctl.d directories and /etc/sysctl.conf (null when absent). */
export interface SysctlFiles {
  dirs: ConfDir[];
  conf: string | null;
}

/** Read the files procps and systemd-sysctl read, through the Host. Throws on a read error (never guesses empty). */
export async function gatherSysctlFiles(host: Host): Promise<SysctlFiles> {
  return { dirs: await gatherDirs(host, SYSCTL_DIRS, isSysctlConfName), conf: await gatherFile(host, SYSCTL_CONF) };
}

/** Every explicit assignment of KEY, in either loader's reading, whose value fails JUDGE (deduplicated by file:line). */
export function sysctlConflicts(files: SysctlFiles, key: string, judge: SysctlJudge): SysctlConflict[] {
  const procps = effectiveSysctl(evaluateSysctl(files.dirs, files.conf), key).entries;
  const systemd = effectiveSystemdSysctl(evaluateSystemdSysctl(files.dirs), key).lines;
  const out = new Map<string, SysctlConflict>();
  for (const e of [...procps, ...systemd]) {
    if (e.glob || e.value === null || judge(e.value) === true) continue;
    out.set(`${e.file}:${e.line}`, { file: e.file, line: e.line, value: e.value });
  }
  return [...out.values()];
}

/**
 * Judge KEY's persistent value: problems (the rule fails), errors (no
 * verdict), facts (what passed). Every message names the file and line.
 */
export function judgePersistentSysctl(
  files: SysctlFiles,
  key: string,
  judge: SysctlJudge,
  want: string,
): { problems: string[]; errors: string[]; facts: string[] } {
  const problems: string[] = [];
  const errors: string[] = [];
  const facts: string[] = [];
  const procps = effectiveSysctl(evaluateSysctl(files.dirs, files.conf), key);
  const systemd = effectiveSystemdSysctl(evaluateSystemdSysctl(files.dirs), key);
  const at = (s: { file: string; line: number }) => `${s.file}:${s.line}`;
  const verdicts: [string, string | null, { file: string; line: number } | null, string][] = [
    ["procps (sysctl --system)", procps.value, procps.source, "nothing sets it"],
    [
      "systemd-sysctl (boot)",
      systemd.value,
      systemd.source,
      systemd.excluded && systemd.source ? `excluded by "-${key}" at ${at(systemd.source)}, so it is not written at boot` : "nothing sets it",
    ],
  ];
  for (const [who, value, source, none] of verdicts) {
    if (value === null || source === null) {
      problems.push(`${who}: no persistent setting for ${key}: ${none}`);
      continue;
    }
    const ok = judge(value);
    if (typeof ok === "string") errors.push(`${who}: ${ok}`);
    else (ok ? facts : problems).push(`${who}: value "${value}" from ${at(source)}${ok ? "" : ` is not ${want}`}`);
  }
  const conflicts = sysctlConflicts(files, key, judge);
  if (conflicts.length) {
    problems.push(
      `conflicting assignment(s) read at boot (an auditor fails these even when overridden): ` +
        conflicts.map((c) => `${at(c)} "${c.value}"`).join(", "),
    );
  }
  return { problems, errors, facts };
}
