/**
 * Property test: the systemd reading order of config/keyvalue.ts against
 * systemd itself. `systemd-analyze --root=R cat-config systemd/journald.conf`
 * (systemd 252, Debian 12's) prints every file systemd reads for journald.conf,
 * in order, each under a `# PATH` header: the main file, then the drop-ins of
 * /etc, /run, /usr/local/lib and /usr/lib by name, an /etc name (a /dev/null
 * link too) masking the same name later, hidden names skipped. Over random
 * trees, the files Bulwark gathers (checks/keyvalue-gather.ts through a real
 * Host) must be exactly those, in that order, and the effective `Storage` of
 * [Journal] computed over the judge's order must equal config_value's.
 * Only temp directories are read; nothing is written outside them.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { effectiveKeyValue, formatFor } from "../../src/config/keyvalue.ts";
import { gatherKeyValue } from "../../src/checks/keyvalue-gather.ts";
import { createHost } from "../../src/host/index.ts";
import { prng, type Prng } from "./prng.ts";
import { prerequisite } from "../support/prereq.ts";

const TREES = Number(process.env.BULWARK_PROPERTY_TREES ?? 120);
const SEED = Number(process.env.BULWARK_PROPERTY_SEED ?? 15);
const haveAnalyze = prerequisite("systemd-analyze (systemd)", Bun.which("systemd-analyze") !== null);

const MAIN = "/etc/systemd/journald.conf";
const DIRS = ["/etc", "/run", "/usr/local/lib", "/usr/lib"].map((d) => `${d}/systemd/journald.conf.d`);
const NAMES = ["10-a.conf", "20-b.conf", "50-c.conf", "z.conf", ".hidden.conf", "x.conf.bak", "README"];
const LINES = ["[Journal]", "[Other]", "Storage=volatile", "Storage=persistent", " Storage = auto ", "#Storage=none", ";Storage=none", "storage=lower", "Compress=yes", ""];

const scratch = mkdtempSync(join(tmpdir(), "bulwark-kv-prop-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const text = (r: Prng) => Array.from({ length: 1 + r.int(5) }, () => r.pick(LINES)).join("\n") + "\n";

function tree(r: Prng, root: string): void {
  if (r.chance(0.85)) {
    mkdirSync(join(root, "etc/systemd"), { recursive: true });
    writeFileSync(join(root, MAIN), text(r));
  }
  for (const d of DIRS) {
    if (!r.chance(0.6)) continue;
    mkdirSync(join(root, d), { recursive: true });
    for (let i = r.int(4); i > 0; i--) {
      const f = join(root, d, r.pick(NAMES));
      rmSync(f, { force: true });
      if (d.startsWith("/etc") && r.chance(0.15)) symlinkSync("/dev/null", f);
      else writeFileSync(f, text(r));
    }
  }
}

/** systemd's list: the paths under the `# ROOT/…` headers, in order. */
function judgeOrder(root: string): string[] {
  const r = Bun.spawnSync(["systemd-analyze", `--root=${root}`, "cat-config", "systemd/journald.conf"], { stdout: "pipe", stderr: "pipe" });
  return r.stdout.toString().split("\n").filter((l) => l.startsWith(`# ${root}/`)).map((l) => l.slice(2 + root.length));
}

test.skipIf(!haveAnalyze)(`keyvalue/AC-06: systemd reading order (main file, drop-ins by name across /etc /run /usr/local/lib /usr/lib, masking) agrees with systemd-analyze cat-config over ${TREES} random trees`, async () => {
  const f = formatFor(MAIN);
  const disagreements: string[] = [];
  for (let i = 0; i < TREES; i++) {
    const root = join(scratch, `t${i}`);
    mkdirSync(root);
    tree(prng(SEED * 100_003 + i), root);
    const judged = judgeOrder(root);
    const host = createHost({ path: "kernel-io", root });
    const ours = await gatherKeyValue(host, MAIN, f);
    const content = (p: string) => {
      try {
        return readFileSync(join(root, p), "latin1");
      } catch {
        return ""; // a /dev/null link
      }
    };
    const judgedValue = effectiveKeyValue(judged.map((p) => ({ path: p, content: content(p) })), "Storage", f, "Journal").winner?.value ?? null;
    const ourValue = effectiveKeyValue(ours.files, "Storage", f, "Journal").winner?.value ?? null;
    if (JSON.stringify(judged) !== JSON.stringify(ours.files.map((x) => x.path)) || judgedValue !== ourValue) {
      disagreements.push(`seed ${SEED} tree ${i}: systemd ${JSON.stringify(judged)} → ${judgedValue}; bulwark ${JSON.stringify(ours.files.map((x) => x.path))} → ${ourValue}`);
    }
    rmSync(root, { recursive: true, force: true });
  }
  expect(disagreements.slice(0, 5)).toEqual([]);
}, 240_000);
