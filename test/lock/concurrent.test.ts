/**
 * 20 concurrent remediates on one image (issue 11.8): the run lock is taken
 * before the state database is opened, so every loser is told the lock is
 * held — never that the database is locked or unusable — and with --wait
 * all of them run, one after another.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allHostPaths } from "../../src/host/index.ts";
import { openStore } from "../../src/store/index.ts";
import { BIN, buildBinary, ubuntuRoot } from "../cli/helpers.ts";
import { spawnBulwark, syncWrapper } from "./support.ts";

const N = 20;
const RULES = ["--rule", "kmod-disable-cramfs", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];

beforeAll(() => buildBinary(), 180_000);

/** Every stored run, oldest first, must end before the next one starts. */
function expectSerialRuns(root: string, runs: number): void {
  const store = openStore(join(root, "var/lib/bulwark"));
  try {
    const spans = store.db.query("SELECT started_at AS s, finished_at AS f FROM runs ORDER BY started_at").all() as { s: string; f: string }[];
    expect(spans.length).toBe(runs);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.s >= spans[i - 1]!.f).toBe(true);
  } finally {
    store.close();
  }
}

function expectLockHeldLoser(r: { code: number; stderr: string }): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain("another Bulwark run holds");
  expect(r.stderr).not.toMatch(/database|unusable|move it aside/);
}

test("run-lock/AC-08: shell path, 20 concurrent remediates: exactly one runs, 19 are told the lock is held (exit 1)", async () => {
  const { root, cleanup } = ubuntuRoot();
  const gate = join(root, "..", `gate-${process.pid}-${Date.now()}`);
  writeFileSync(gate, "");
  // The winner's first write waits at this gate until every loser has answered.
  const sync = syncWrapper({ gate });
  try {
    const runs = Array.from({ length: N }, () =>
      spawnBulwark(BIN, ["remediate", "--root", root, "--path", "shell", "--format", "json", ...RULES], { BULWARK_TEST_PATH_PREPEND: sync.dir }),
    );
    const settled: ({ code: number; stderr: string } | null)[] = runs.map(() => null);
    runs.forEach((r, i) => r.done.then((x) => (settled[i] = x)));
    const t0 = Date.now();
    while (settled.filter(Boolean).length < N - 1 && Date.now() - t0 < 90_000) await Bun.sleep(50);
    rmSync(gate);
    const results = await Promise.all(runs.map((r) => r.done));
    const winners = results.filter((r) => r.code === 0);
    expect(winners.length, results.map((r) => r.stderr).join("\n")).toBe(1);
    for (const r of results.filter((r) => r.code !== 0)) expectLockHeldLoser(r);
    expect(JSON.parse(winners[0]!.stdout).transactions.map((t: any) => t.status)).toEqual(["committed", "committed"]);
    expectSerialRuns(root, 1);
  } finally {
    if (existsSync(gate)) rmSync(gate);
    sync.cleanup();
    cleanup();
  }
}, 150_000);

test("run-lock/AC-08: kernel-io path, 20 concurrent remediates: every one runs alone or is told the lock is held (exit 1)", async () => {
  // No gate on kernel-io (it runs no sync(1)): a late starter may win after the first run ended.
  const { root, cleanup } = ubuntuRoot();
  try {
    const results = await Promise.all(
      Array.from({ length: N }, () => spawnBulwark(BIN, ["remediate", "--root", root, "--path", "kernel-io", "--format", "json", ...RULES]).done),
    );
    const winners = results.filter((r) => r.code === 0);
    expect(winners.length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((r) => r.code !== 0)) expectLockHeldLoser(r);
    expectSerialRuns(root, winners.length);
    console.log(`kernel-io: ${winners.length} of ${N} concurrent remediates ran, ${N - winners.length} were refused`);
  } finally {
    cleanup();
  }
}, 150_000);

describe.each(allHostPaths)("%s path", (hostPath) => {
  test("run-lock/AC-08: with --wait, all 20 concurrent remediates succeed, one after another", async () => {
    const { root, cleanup } = ubuntuRoot();
    try {
      const results = await Promise.all(
        Array.from({ length: N }, () =>
          spawnBulwark(BIN, ["remediate", "--root", root, "--path", hostPath, "--wait", "--format", "json", ...RULES]).done,
        ),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const statuses = results.flatMap((r) => JSON.parse(r.stdout).transactions.map((t: any) => t.status));
      expect(statuses.filter((s: string) => s === "committed").length).toBe(2);
      expectSerialRuns(root, N);
    } finally {
      cleanup();
    }
  }, 150_000);
});
