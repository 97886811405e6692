/**
 * Scenario fragments of the booted-system harness: `test/live/system/
 * scenarios/<name>.sh`, each declaring its criteria in header lines that are
 * read synchronously at test load time (the spec gate reads junit titles, so
 * every title must exist before the VM boots):
 *
 *   # live-id: service-masked/AC-07 a running unit is masked; rollback starts it
 *   # live-paths: kernel-io shell          (optional; default both)
 *   # live-debs: telnet rsh-client         (optional; apt-get download on the host)
 *   # live-lane: units                     (optional; default "main")
 *
 * Lanes run concurrently in the guest (one per vCPU is what pays); fragments
 * of one lane run one after the other, each on its paths in turn. Fragments
 * that act on the same system state (units, sshd, fstab, dpkg) share a lane.
 *
 * Shipped files: the directory `<name>.files/` next to the fragment.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PayloadFragment } from "./system-disk.ts";

export const ALL_PATHS = ["kernel-io", "shell"] as const;

/** One declared criterion: its id (`spec/AC-NN`) and the words of its title. */
export interface DeclaredId {
  readonly id: string;
  readonly title: string;
}

/** The lane of a fragment without a `# live-lane:` header. */
export const DEFAULT_LANE = "main";

export interface Fragment extends PayloadFragment {
  readonly declared: readonly DeclaredId[];
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ID = /^[a-z0-9][a-z0-9-]*\/AC-\d{2,}$/;
const DEB = /^[a-z0-9][a-z0-9+.-]+$/;
const LANE = /^[a-z0-9][a-z0-9-]{0,30}$/;

/** Parses one fragment's header lines; throws naming the file and line for anything malformed. */
export function parseFragment(name: string, script: string, text: string): Fragment {
  if (!NAME.test(name)) throw new Error(`${script}: fragment name "${name}" must match ${NAME}`);
  const declared: DeclaredId[] = [];
  let paths: string[] = [...ALL_PATHS];
  const debs: string[] = [];
  let lane: string | undefined;
  text.split("\n").forEach((line, i) => {
    const m = /^#\s*live-(id|paths|debs|lane):\s*(.*)$/.exec(line.trim());
    if (!m) return;
    const where = `${script}:${i + 1}`;
    const value = (m[2] ?? "").trim();
    if (m[1] === "id") {
      const [id = "", ...words] = value.split(/\s+/);
      if (!ID.test(id)) throw new Error(`${where}: "# live-id:" needs spec/AC-NN first (got "${id}")`);
      if (declared.some((d) => d.id === id)) throw new Error(`${where}: ${id} declared twice`);
      declared.push({ id, title: words.join(" ") || "(no description)" });
    } else if (m[1] === "paths") {
      paths = value.split(/\s+/).filter(Boolean);
      const bad = paths.filter((p) => !(ALL_PATHS as readonly string[]).includes(p));
      if (bad.length || paths.length === 0) throw new Error(`${where}: "# live-paths:" takes kernel-io and/or shell (got "${value}")`);
    } else if (m[1] === "lane") {
      if (lane !== undefined) throw new Error(`${where}: "# live-lane:" given twice`);
      if (!LANE.test(value)) throw new Error(`${where}: "# live-lane:" takes one name matching ${LANE} (got "${value}")`);
      lane = value;
    } else {
      for (const d of value.split(/\s+/).filter(Boolean)) {
        if (!DEB.test(d)) throw new Error(`${where}: "${d}" is not a Debian package name`);
        debs.push(d);
      }
    }
  });
  if (declared.length === 0) throw new Error(`${script}: declares no "# live-id: spec/AC-NN ..." line`);
  return { name, script, lane: lane ?? DEFAULT_LANE, paths, ids: declared.map((d) => d.id), declared, debs, filesDir: script.replace(/\.sh$/, ".files") };
}

/**
 * Every fragment under DIR in run order: `harness` first (it proves the
 * harness itself), then by name. Synchronous: called at test load time.
 */
export function loadFragments(dir: string): Fragment[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((f) => f.endsWith(".sh")).map((f) => f.slice(0, -3));
  names.sort((a, b) => (a === "harness" ? -1 : b === "harness" ? 1 : a.localeCompare(b)));
  return names.map((n) => {
    const script = join(dir, `${n}.sh`);
    return parseFragment(n, script, readFileSync(script, "utf8"));
  });
}
