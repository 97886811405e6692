/** The persistent shell session against a fresh `sh -c` for every call. */
import { expect, test } from "bun:test";
import { localExecutor, persistentShell } from "../../src/host/executor.ts";

const scripts: [string, Uint8Array | undefined][] = [
  ["printf 'no newline'", undefined],
  ["printf 'a\\n\\n'", undefined],
  ["printf '\\000\\377\\001'", undefined],
  ["echo out; echo err >&2; exit 7", undefined],
  ["cat", new Uint8Array([0, 1, 255, 10, 10, 13])],
  ["cat", new Uint8Array()],
  ["wc -c", new Uint8Array(100_000).fill(65)],
  ["set -u; echo \"$undefined_variable\"", undefined],
];

test("shell-executor/AC-01: same stdout bytes, stderr and exit code as a one-shot sh; stdin exact", async () => {
  const one = localExecutor();
  const per = persistentShell();
  for (const [s, stdin] of scripts) {
    const a = await one.run(s, stdin);
    const b = await per.run(s, stdin);
    // sh prefixes its own messages with a line number, which differs in a long-lived session.
    const norm = (e: string) => e.replace(/^\/bin\/sh: \d+: /gm, "/bin/sh: N: ");
    expect({ s, code: b.code, out: [...b.stdout], err: norm(b.stderr) }).toEqual({ s, code: a.code, out: [...a.stdout], err: norm(a.stderr) });
  }
});

test("shell-executor/AC-02: exit, set -u and traps stay inside the script's subshell", async () => {
  const per = persistentShell();
  expect((await per.run("trap 'echo trapped' EXIT; set -u; exit 3")).code).toBe(3);
  const r = await per.run('echo "${unset_var-ok}"; cd /; pwd');
  expect(Buffer.from(r.stdout).toString()).toBe("ok\n/\n");
  expect(r.code).toBe(0);
});

test("shell-executor/AC-03: a dead session rejects the call in flight and is restarted", async () => {
  const per = persistentShell();
  await per.run("true");
  // In a subshell $$ is still the session shell's pid.
  await expect(per.run("kill -9 $$; sleep 5")).rejects.toThrow(/session ended/);
  const r = await per.run("echo back");
  expect(Buffer.from(r.stdout).toString()).toBe("back\n");
});

test("shell-executor/AC-04: concurrent calls are serialised, each with its own output", async () => {
  const per = persistentShell();
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => per.run(`sleep 0.0${i % 3}; echo ${i}`)));
  expect(rs.map((r) => Buffer.from(r.stdout).toString().trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
});

test("shell-executor/AC-05: a call in flight keeps the process alive; an idle session does not", async () => {
  const src = `import { persistentShell } from ${JSON.stringify(`${import.meta.dir}/../../src/host/executor.ts`)};
    const r = await persistentShell(60_000).run("sleep 0.3; echo done");
    console.log(Buffer.from(r.stdout).toString().trim());`;
  const t = Date.now();
  const p = Bun.spawnSync([process.execPath, "-e", src]);
  expect(p.stdout.toString().trim()).toBe("done");
  expect(p.exitCode).toBe(0);
  // The idle timer is 60 s: exiting well before it proves the session does not hold the process.
  expect(Date.now() - t).toBeLessThan(20_000);
});
