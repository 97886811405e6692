/**
 * Ansible beside Bulwark on the same edits (issue 14): the shipped
 * kernel-module and sysctl rules that apply to an offline Ubuntu sysroot (the
 * rule set of bench/remediate.ts), once as an Ansible playbook
 * (ansible.posix.sysctl with sysctl_file inside the sysroot and neither
 * sysctl_set nor reload, so the kernel is never written; ansible.builtin.copy
 * of the same modprobe.d drop-in bytes Bulwark writes) and once as the
 * compiled binary's kernel-io `remediate --root` of those rule ids. Both are
 * whole processes (start-up included), each on a fresh sysroot, interleaved,
 * median of BENCH_ANSIBLE_RUNS (default 3). Ansible runs with its fastest
 * local settings (no facts, pipelining, interpreter given) and no fsync at
 * all; Bulwark journals each transaction and fsyncs every write.
 *
 * Skipped, with a notice, when ansible-playbook is not on PATH
 * (`apt-get install -y --no-install-recommends ansible` on Debian).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bulwark, buildBinary, json, OS_RELEASE } from "../test/cli/helpers.ts";
import { shippedRules } from "../test/support/resolve-shipped.ts";
import { createHost } from "../src/host/index.ts";
import { sysctlPersistFile } from "../src/handlers/sysctl-set.ts";
import { modprobeDropIn, modprobeDropInText } from "../src/handlers/kernel-module-disable.ts";
import type { ResolvedRule } from "../src/engine/types.ts";

/** One file an Ansible task writes: a sysctl key set in its drop-in, or a modprobe drop-in's whole bytes. */
type Edit = { ruleId: string; path: string } & ({ kind: "sysctl"; key: string; value: string } | { kind: "modprobe"; content: string });

/** An Ubuntu 24.04 sysroot with empty modprobe.d and sysctl.d: what bench/remediate.ts remediates, plus os-release for the CLI. */
export function ubuntuSysroot(): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "bulwark-bench-ansible-")));
  for (const d of ["etc/modprobe.d", "etc/sysctl.d", "var/lib"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/os-release"), OS_RELEASE);
  return root;
}

/** The edits each rule's steps make on a sysroot with no prior configuration (logical paths). */
export function editsOf(rules: ResolvedRule[]): Edit[] {
  return rules.flatMap((r) =>
    r.steps.map((s): Edit => {
      const p = s.params as Record<string, string>;
      if (s.mechanism === "sysctl_set") return { ruleId: r.id, kind: "sysctl", path: sysctlPersistFile(p as { key: string }), key: p.key!, value: p.value! };
      if (s.mechanism === "kernel_module_disable") return { ruleId: r.id, kind: "modprobe", path: modprobeDropIn(p.name!), content: modprobeDropInText(p.name!) };
      throw new Error(`${r.id}: no Ansible equivalent for ${s.mechanism}`);
    }));
}

/** ROOT + logical PATH, refusing anything that would land outside ROOT: the playbook must never reach the real /etc. */
function under(root: string, path: string): string {
  const full = resolve(root, `.${path}`);
  if (!path.startsWith("/") || !full.startsWith(`${root}/`) || full.includes("/../")) throw new Error(`refusing a playbook path outside the sysroot: ${path}`);
  return full;
}

/** The playbook as JSON (a YAML subset, so no quoting rules to get wrong). */
export function playbook(root: string, edits: Edit[]): string {
  const tasks = edits.map((e) =>
    e.kind === "sysctl"
      ? { name: e.ruleId, "ansible.posix.sysctl": { name: e.key, value: e.value, sysctl_file: under(root, e.path), sysctl_set: false, reload: false, state: "present" } }
      : { name: e.ruleId, "ansible.builtin.copy": { dest: under(root, e.path), content: e.content, mode: "0644" } });
  return JSON.stringify([{ hosts: "localhost", connection: "local", gather_facts: false, tasks }], null, 1);
}

/** Every edit landed: the sysctl key in its file with the value, the modprobe drop-in byte for byte. */
function verify(root: string, edits: Edit[], who: string): void {
  for (const e of edits) {
    const full = under(root, e.path);
    const text = existsSync(full) ? readFileSync(full, "utf8") : null;
    const ok = text !== null && (e.kind === "modprobe" ? text === e.content : text.split("\n").some((l) => l.replace(/\s+/g, "") === `${e.key}=${e.value.replace(/\s+/g, "")}`));
    if (!ok) throw new Error(`${who}: ${e.ruleId}: ${e.path} does not hold the edit`);
  }
}

/** One playbook run on a fresh sysroot: wall ms. */
function ansibleOnce(edits: Edit[]): number {
  const root = ubuntuSysroot();
  const work = mkdtempSync(join(tmpdir(), "bulwark-bench-ansible-work-"));
  try {
    const book = join(work, "edits.yml");
    writeFileSync(book, playbook(root, edits));
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      ANSIBLE_HOME: join(work, ".ansible"),
      ANSIBLE_LOCAL_TEMP: join(work, "tmp"),
      ANSIBLE_REMOTE_TMP: join(work, "tmp"),
      ANSIBLE_CONFIG: join(work, "none.cfg"),
      ANSIBLE_PIPELINING: "1",
      ANSIBLE_RETRY_FILES_ENABLED: "0",
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_PYTHON_INTERPRETER: "/usr/bin/python3",
    };
    const t0 = performance.now();
    const r = Bun.spawnSync(["ansible-playbook", "-i", "localhost,", book], { cwd: work, env, stdout: "pipe", stderr: "pipe" });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`ansible-playbook exit ${r.exitCode}:\n${r.stdout}\n${r.stderr}`);
    verify(root, edits, "ansible");
    return ms;
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

/** One compiled-binary kernel-io remediate of the same rule ids on a fresh sysroot: wall ms. */
function bulwarkOnce(edits: Edit[]): number {
  const root = ubuntuSysroot();
  try {
    const ids = [...new Set(edits.map((e) => e.ruleId))];
    const r = bulwark(["remediate", "--root", root, "--path", "kernel-io", "--rule", ids.join(","), "--format", "json"]);
    if (r.code !== 0) throw new Error(`bulwark remediate exit ${r.code}: ${r.stderr}`);
    const committed = json(r).transactions.filter((t: any) => t.status === "committed").length;
    if (committed !== ids.length) throw new Error(`bulwark committed ${committed} of ${ids.length} rules`);
    verify(root, edits, "bulwark");
    return r.ms;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median wall ms of Ansible and of Bulwark on the same edits, and their ratio; a notice when Ansible is absent. */
export async function benchAnsible(runs = Number(process.env.BENCH_ANSIBLE_RUNS ?? 3)): Promise<string[]> {
  if (!Bun.which("ansible-playbook")) return ["skipped: ansible-playbook is not on PATH (apt-get install -y --no-install-recommends ansible)"];
  buildBinary();
  const probe = ubuntuSysroot();
  let edits: Edit[];
  try {
    const caps = createHost({ path: "kernel-io", root: probe }).capabilities;
    edits = editsOf([...shippedRules("kernel_module_disable", caps), ...shippedRules("sysctl_set", caps)]);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(ansibleOnce(edits));
    b.push(bulwarkOnce(edits));
  }
  const [am, bm] = [median(a), median(b)];
  const sysctl = edits.filter((e) => e.kind === "sysctl").length;
  return [
    `${edits.length} edits (${sysctl} sysctl.d, ${edits.length - sysctl} modprobe.d), fresh Ubuntu sysroot each run, whole process, median of ${runs} interleaved runs:`,
    `  ansible-playbook (local, no facts, pipelining, no fsync) ${am.toFixed(0).padStart(7)} ms  (${(am / edits.length).toFixed(1)} ms/edit)`,
    `  bulwark remediate --path kernel-io (journaled, fsynced)  ${bm.toFixed(0).padStart(7)} ms  (${(bm / edits.length).toFixed(1)} ms/edit)`,
    `  ratio ansible/bulwark: ${(am / bm).toFixed(1)}x`,
  ];
}

if (import.meta.main) for (const l of await benchAnsible()) console.log(l);
