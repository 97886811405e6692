/** The CLI's contract beyond the happy path, through the compiled binary: specs/cli/cli.spec.yaml. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { walk, flatten } from "../../scripts/package/cli-tree.ts";
import { main } from "../../src/cli/main.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { loadEmbeddedRules } from "../../src/rules/embedded.ts";
import { bulwark, buildBinary, imageSnapshot, json, jsonl, OS_RELEASE, STATE_REL, ubuntuRoot } from "./helpers.ts";

const SLOW = 60_000;
const roots: { cleanup(): void }[] = [];
function image() {
  const s = ubuntuRoot();
  roots.push(s);
  return s.root;
}

beforeAll(() => buildBinary(), 120_000);
afterAll(() => roots.forEach((r) => r.cleanup()));

const CRAMFS = ["--rule", "kmod-disable-cramfs"];
const TWO = ["--rule", "kmod-disable-cramfs", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];

function oneLineError(r: { code: number; stdout: string; stderr: string }, code = 1) {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe("usage errors", () => {
  test.each([
    [["check", "--bogus"], "unknown flag --bogus"],
    [["check", "--format", "xml"], "--format must be one of text, json, jsonl"],
    [["check", "--path", "ssh"], "--path must be one of auto, kernel-io, shell"],
    [["check", "--severity", "urgent"], "--severity must be one of"],
    [["check", "--rule"], "--rule needs a value"],
    [["check", "--rule", "no-such-rule"], "unknown rule id no-such-rule"],
    [["check", "stray"], 'unexpected argument "stray"'],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["rollback"], "exactly one of --txn ID, --run ID, --last"],
    [["rollback", "--txn", "abc"], "--txn must be a positive id"],
    [["rollback", "--txn", "1", "--last"], "exactly one of"],
    [["history", "--since", "yesterday"], "--since must be"],
    [["check", "--root", "/no/such/dir"], "--root /no/such/dir: no such directory"],
    [["rules", "show", "nope"], "unknown rule id nope"],
    [["check", "--quiet=loud"], "--quiet takes no value"],
  ])("cli/AC-05: %j exits 1 with one line", (args, msg) => {
    const root = image();
    const withRoot = args.includes("--root") || args[0] === "frobnicate" || args[0] === "rules" ? args : [...args, "--root", root];
    const line = oneLineError(bulwark(withRoot));
    expect(line).toContain(msg);
  });
});

describe("exit codes and output", () => {
  test("cli/AC-12: bulwark with no arguments prints help on stdout and exits 0", () => {
    const r = bulwark([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("USAGE  bulwark <command>");
    for (const c of ["check", "remediate", "plan", "rollback", "recover", "history", "rules", "doctor", "version"]) expect(r.stdout).toContain(`  ${c} `);
    expect(r.stderr).toBe("");
  });

  test("cli/AC-04: plan and remediate --dry-run show file-by-file changes and write nothing", () => {
    const root = image();
    const before = imageSnapshot(root);
    for (const args of [["plan"], ["remediate", "--dry-run"]]) {
      const r = bulwark([...args, "--root", root, ...TWO, "--format", "json"]);
      expect(r.code).toBe(2);
      const doc = json(r);
      expect(doc.dry_run).toBe(true);
      expect(doc.run_id).toBeNull();
      expect(doc.transactions.map((t: any) => t.status)).toEqual(["planned", "planned"]);
      const plan = doc.transactions.flatMap((t: any) => t.plan);
      expect(plan.some((l: string) => l.includes("/etc/modprobe.d/"))).toBe(true);
      expect(plan.some((l: string) => l.includes("/etc/sysctl"))).toBe(true);
      const text = bulwark([...args, "--root", root, ...TWO]);
      expect(text.stdout).toContain("/etc/modprobe.d/");
      expect(text.stdout).toContain("nothing was changed");
    }
    expect(imageSnapshot(root)).toEqual(before);
    expect(existsSync(join(root, STATE_REL))).toBe(false);
  });

  test("cli/AC-07: jsonl is one object per line, one per result or transaction, then a summary", () => {
    const root = image();
    const check = jsonl(bulwark(["check", "--root", root, ...TWO, "--format", "jsonl"]));
    expect(check.map((l) => l.type)).toEqual(["result", "result", "summary"]);
    expect(check[2]).toMatchObject({ total: 2, fail: 2 });
    const rem = bulwark(["remediate", "--root", root, ...TWO, "--format", "jsonl"]);
    expect(rem.code).toBe(0);
    const lines = jsonl(rem);
    expect(lines.map((l) => l.type)).toEqual(["transaction", "transaction", "summary"]);
    expect(lines[2]).toMatchObject({ total: 2, committed: 2, dry_run: false });
    expect(lines[0].run_id).toBe(lines[2].run_id);
  }, SLOW);

  test("cli/AC-01: text output is one line per rule and a summary; no colour when not a TTY", () => {
    const root = image();
    const r = bulwark(["check", "--root", root, ...TWO]);
    expect(r.code).toBe(2);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^FAIL\s+kmod-disable-cramfs\s+Keep the cramfs kernel module from loading: /);
    expect(lines[2]).toMatch(/^2 rules: 0 pass, 2 fail, 0 error, 0 skip \(ubuntu 24\.04/);
    expect(r.stdout).not.toContain("\x1b[");
    const q = bulwark(["check", "--root", root, ...TWO, "--quiet"]);
    expect(q.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  test("cli/AC-10: --root reads os-release from the image: another platform's rules are skipped", () => {
    const s = makeSysroot("bulwark-cli-rhel-");
    roots.push(s);
    seed(s.root, { "etc/os-release": 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n' });
    // Every rule (--profile all), not the default profile: the point is which platforms the rules name.
    const rocky = json(bulwark(["check", "--root", s.root, "--format", "json", "--profile", "all"]));
    expect(rocky.target.os).toBe("rocky 9.3");
    // Only the Debian-family rules (the shadow group, Debian's pam.d stack) are another platform to Rocky.
    const debianOnly = loadEmbeddedRules().rules.filter((r) => r.platforms.every((p) => p.family !== "rhel")).map((r) => r.id).sort();
    // Platform skips only: a check may also skip (a unit or mount point this host does not have).
    const platformSkips = rocky.results.filter((x: any) => x.status === "skip" && x.detail.includes("rule is for "));
    expect(platformSkips.map((x: any) => x.rule).sort()).toEqual(debianOnly);
    expect(debianOnly.length).toBeLessThan(rocky.summary.total / 4);
    // Every shipped rule names ubuntu >= 22.04: an older Ubuntu is another platform to all of them.
    const old = makeSysroot("bulwark-cli-bionic-");
    roots.push(old);
    seed(old.root, { "etc/os-release": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="18.04"\n' });
    const ubuntu = json(bulwark(["check", "--root", old.root, "--format", "json", "--allow-empty"]));
    expect(ubuntu.summary.skip).toBeGreaterThan(0);
    expect(ubuntu.summary.skip).toBe(ubuntu.summary.total);
    const none = makeSysroot("bulwark-cli-none-");
    roots.push(none);
    // Nothing applies without os-release: an error unless --allow-empty (cli-honesty/AC-03), then a warning.
    expect(bulwark(["check", "--root", none.root, "--format", "json"]).code).toBe(1);
    const r = bulwark(["check", "--root", none.root, "--format", "json", "--allow-empty"]);
    expect(json(r).summary.skip).toBe(json(r).summary.total);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no os-release");
  });

  test("cli/AC-09: rollback refuses a transaction whose file changed since commit (exit 2); --force rolls back", () => {
    const root = image();
    const rem = json(bulwark(["remediate", "--root", root, ...CRAMFS, "--format", "json"]));
    const txn = rem.transactions[0];
    expect(txn.status).toBe("committed");
    const full = json(bulwark(["history", "--root", root, "--txn", String(txn.id), "--format", "json"])).transaction;
    const file = join(root, full.files[0].path);
    writeFileSync(file, readFileSync(file, "utf8") + "# operator edit\n");
    const refused = bulwark(["rollback", "--root", root, "--txn", String(txn.id), "--format", "json"]);
    expect(refused.code).toBe(2);
    expect(json(refused).rollbacks[0]).toMatchObject({ id: txn.id, status: "refused" });
    expect(json(refused).rollbacks[0].detail).toContain("--force");
    const forced = bulwark(["rollback", "--root", root, "--txn", String(txn.id), "--force", "--format", "json"]);
    expect(forced.code).toBe(0);
    expect(json(forced).rollbacks[0].status).toBe("rolled_back");
    const again = bulwark(["rollback", "--root", root, "--last"]);
    expect(oneLineError(again)).toContain("nothing to roll back");
  }, SLOW);

  test("cli/AC-11: a held lock and a damaged state database each exit 1 with one line; --wait waits", async () => {
    const root = image();
    // Another process holds the run lock (flock(1) on the same file).
    bulwark(["remediate", "--root", root, ...CRAMFS]);
    bulwark(["rollback", "--root", root, "--last"]);
    const lock = join(root, STATE_REL, "state.lock");
    const holder = Bun.spawn(["flock", "--exclusive", lock, "-c", "echo held; sleep 1.5"], { stdout: "pipe" });
    const reader = holder.stdout.getReader();
    await reader.read(); // "held": the lock is taken
    expect(oneLineError(bulwark(["remediate", "--root", root, ...CRAMFS]))).toContain("another Bulwark run holds");
    // --wait waits for the holder instead of failing.
    const waited = bulwark(["remediate", "--root", root, ...CRAMFS, "--wait"]);
    expect(waited.code).toBe(0);
    await holder.exited;

    const damaged = image();
    seed(damaged, { [`${STATE_REL}/state.db`]: "this is not a database, it is a text file of some length".repeat(4) });
    expect(oneLineError(bulwark(["remediate", "--root", damaged, ...CRAMFS]))).toContain("state database");
    expect(oneLineError(bulwark(["history", "--root", damaged]))).toContain("state database");
  }, SLOW);

  test("cli/AC-14: a run killed mid-transaction blocks remediate until recover restores the image", () => {
    const root = image();
    const before = imageSnapshot(root);
    const killed = bulwark(["remediate", "--root", root, ...TWO], { BULWARK_FAULT: "after-apply:1" });
    expect(killed.code).not.toBe(0);
    expect(imageSnapshot(root)).not.toEqual(before);
    const blocked = oneLineError(bulwark(["remediate", "--root", root, ...TWO]));
    expect(blocked).toContain("bulwark recover");
    const rec = bulwark(["recover", "--root", root, "--format", "json"]);
    expect(rec.code).toBe(0);
    expect(json(rec).recovered.map((r: any) => r.status)).toEqual(["recovered"]);
    expect(imageSnapshot(root)).toEqual(before);
    const nothing = bulwark(["recover", "--root", root]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain("nothing to recover");
  }, SLOW);

  test("cli/AC-13: doctor reports the state database and kernel.modules_disabled for --root, read-only", () => {
    const root = image();
    const fresh = json(bulwark(["doctor", "--root", root, "--format", "json"]));
    expect(fresh.stateDb.status).toBe("absent");
    expect(fresh.offline).toBe(true);
    expect(fresh.modulesDisabled).toBeNull();
    expect(fresh.modulesDisabledPersistent.value).toBeNull();
    expect(existsSync(join(root, STATE_REL))).toBe(false);
    seed(root, { "etc/sysctl.d/50-lockdown.conf": "kernel.modules_disabled = 1\n" });
    bulwark(["remediate", "--root", root, ...CRAMFS]);
    const after = json(bulwark(["doctor", "--root", root, "--format", "json"]));
    expect(after.stateDb).toMatchObject({ status: "ok", transactions: 1, pendingRecovery: [] });
    expect(after.modulesDisabledPersistent.value).toBe("1");
    const text = bulwark(["doctor", "--root", root]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/state database:\s+ok/);
    expect(text.stdout).toMatch(/kernel\.modules_disabled: n\/a \(offline image/);
  }, SLOW);

  test("cli/AC-15: rules list, show and validate", () => {
    const root = image();
    const list = json(bulwark(["rules", "list", "--root", root, "--tag", "kernel-module", "--format", "json"]));
    expect(list.rules.every((r: any) => r.tags.includes("kernel-module"))).toBe(true);
    expect(list.rules.find((r: any) => r.id === "kmod-disable-cramfs").applies).toBe(true);
    const show = json(bulwark(["rules", "show", "kmod-disable-cramfs", "--format", "json"]));
    expect(show.rule.implementations[0].steps[0].mechanism).toBe("kernel_module_disable");
    expect(bulwark(["rules", "validate"]).code).toBe(0);
    const dir = makeSysroot("bulwark-cli-rules-");
    roots.push(dir);
    seed(dir.root, { "bad.yml": "id: Bad Id\ntitle: x\nseverity: medium\nimplementations: []\n" });
    const bad = bulwark(["rules", "validate", "--rules-dir", dir.root, "--format", "json"]);
    expect(bad.code).toBe(2);
    expect(json(bad).errors.length).toBeGreaterThan(0);
    // Loading bad rules for a check is an error, in one line.
    expect(oneLineError(bulwark(["check", "--root", root, "--rules-dir", dir.root]))).toContain("cannot load rules");
  });
});

test("cli/AC-16: selection: --rule repeatable and comma-separated, --severity this or worse, --tag any of, --rules-dir", () => {
  const root = image();
  const ids = (args: string[]) => json(bulwark(["check", "--root", root, ...args, "--format", "json"])).results.map((r: any) => r.rule);
  expect(ids(["--rule", "kmod-disable-cramfs,kmod-disable-udf", "--rule", "kmod-disable-hfs"])).toEqual([
    "kmod-disable-cramfs",
    "kmod-disable-hfs",
    "kmod-disable-udf",
  ]);
  const sev = json(bulwark(["rules", "list", "--severity", "medium", "--format", "json"])).rules.map((r: any) => r.severity);
  expect(new Set(sev)).toEqual(new Set(["high", "medium"]));
  const tagged = json(bulwark(["rules", "list", "--tag", "coredump", "--tag", "kexec", "--format", "json"])).rules.map((r: any) => r.id);
  expect(tagged.sort()).toEqual(["sysctl-fs-suid-dumpable", "sysctl-kernel-kexec-load-disabled"]);
  const dir = makeSysroot("bulwark-cli-own-");
  roots.push(dir);
  seed(dir.root, {
    "mine/cramfs.yml": readFileSync(join(import.meta.dir, "../../rules/kernel-modules/kmod-disable-cramfs.yml"), "utf8").replace("id: kmod-disable-cramfs", "id: my-cramfs"),
  });
  expect(ids(["--rules-dir", dir.root])).toEqual(["my-cramfs"]);
});

describe("help", async () => {
  const tree = flatten(await walk(main, ["bulwark"]));
  test.each(tree.map((c) => [c.path.join(" "), c] as const))("cli/AC-06: %s --help explains every flag with an example", (_name, c) => {
    const r = bulwark([...c.path.slice(1), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toContain("\x1b[");
    expect(r.stdout).toContain(`USAGE  ${c.path.join(" ")}`);
    for (const f of c.flags) {
      if (f.positional) {
        expect(r.stdout).toContain(f.name.toUpperCase());
        continue;
      }
      expect(r.stdout).toContain(`--${f.name}`);
      expect(f.description).toContain("Example:");
    }
    if (c.subcommands.length === 0) expect(r.stdout).toContain("EXAMPLES");
    for (const s of c.subcommands) expect(r.stdout).toContain(`  ${s.path.at(-1)} `);
  });
});
