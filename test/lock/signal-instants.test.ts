/**
 * Signals at random instants of a remediate (issue 11.5), on both paths,
 * through the compiled binary, with a slowed `sync` on the shell path so
 * instants land inside writes:
 *
 * - SIGINT / SIGTERM to Bulwark's whole process group (Ctrl-C, a stop):
 *   the run ends between transactions; no transaction fails because of it.
 * - SIGKILL of Bulwark alone: its helper shell may still be finishing a
 *   write; recover must not run until it has (the helper holds the lock).
 *
 * Either way `recover` then `rollback --last` must leave the image
 * byte-identical to before. BULWARK_SIGNAL_INSTANTS sets the instants per
 * signal and path (default 4: the whole file then stays well under 3 minutes
 * on 2 cores); BULWARK_SIGNAL_PARALLEL how many run at once (default 3).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { allHostPaths } from "../../src/host/index.ts";
import { BIN, buildBinary, bulwark, imageSnapshot, ubuntuRoot } from "../cli/helpers.ts";
import { spawnBulwark, syncWrapper } from "./support.ts";

const INSTANTS = Number(process.env.BULWARK_SIGNAL_INSTANTS ?? 4);
const PARALLEL = Number(process.env.BULWARK_SIGNAL_PARALLEL ?? 3);
const SYNC_DELAY_S = 0.1;
const RULES = ["--rule", "kmod-disable-cramfs", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];
const SIGNALS = ["SIGINT", "SIGTERM", "SIGKILL"] as const;

let slowSync: ReturnType<typeof syncWrapper>;
const tally: string[] = [];
beforeAll(() => {
  buildBinary();
  slowSync = syncWrapper({ delay: SYNC_DELAY_S });
}, 180_000);
afterAll(() => {
  slowSync.cleanup();
  if (tally.length) console.log(`signal instants (tried → byte-identical after recover + rollback):\n  ${tally.join("\n  ")}`);
});

/** Run FN over 0..N-1, at most LIMIT at a time. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, limit) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** How long one uninterrupted remediate takes on this path here: the range instants are drawn from. */
function calibrate(hostPath: string, env: Record<string, string>): number {
  const { root, cleanup } = ubuntuRoot();
  try {
    const r = bulwark(["remediate", "--root", root, "--path", hostPath, ...RULES], env);
    if (r.code !== 0) throw new Error(`calibration run failed: ${r.stderr}`);
    return r.ms;
  } finally {
    cleanup();
  }
}

describe.each(allHostPaths)("%s path", (hostPath) => {
  const env = { BULWARK_TEST_PATH_PREPEND: "" };
  const instants = async (sig: (typeof SIGNALS)[number]) => {
    env.BULWARK_TEST_PATH_PREPEND = slowSync.dir;
    const span = calibrate(hostPath, env);
    let identical = 0;
    await pool(INSTANTS, PARALLEL, async (i) => {
      const { root, cleanup } = ubuntuRoot();
      try {
        const before = imageSnapshot(root);
        const delay = Math.random() * span * 1.1;
        const run = spawnBulwark(BIN, ["remediate", "--root", root, "--path", hostPath, "--format", "json", ...RULES], env, { detached: true });
        await Bun.sleep(delay);
        try {
          if (sig === "SIGKILL") run.proc.kill("SIGKILL");
          else process.kill(-run.proc.pid, sig); // the whole process group, as a terminal's Ctrl-C
        } catch {
          /* already exited */
        }
        const r = await run.done;
        const where = `${sig} #${i} at ${delay.toFixed(0)} ms (exit ${r.code}, ${r.signal ?? "no signal"}): ${r.stderr.trim()}`;
        if (sig !== "SIGKILL" && r.signal === null && r.stdout.trim()) {
          // Handled: every transaction that ran ended as it would have without the signal.
          for (const t of JSON.parse(r.stdout).transactions) expect(["committed", "skipped"], where).toContain(t.status);
        }
        // recover may have to wait for a killed run's helper shell to finish its last command.
        const rec = bulwark(["recover", "--root", root, "--path", hostPath, "--wait"], env);
        expect(rec.code, `${where}\nrecover: ${rec.stderr}`).toBe(0);
        const rb = bulwark(["rollback", "--last", "--root", root, "--path", hostPath], env);
        if (rb.code !== 0) expect(rb.stderr, `${where}\nrollback: ${rb.stderr}`).toContain("nothing to roll back");
        expect(imageSnapshot(root), where).toEqual(before);
        identical++;
      } finally {
        cleanup();
      }
    });
    tally.push(`${hostPath} ${sig}: ${INSTANTS} tried → ${identical} identical (instants in 0–${(span * 1.1).toFixed(0)} ms)`);
    expect(identical).toBe(INSTANTS);
  };

  test.each(["SIGINT", "SIGTERM"] as const)(
    "run-lock/AC-10: %s to the whole process group at random instants of a remediate; recover + rollback restore the image byte-identical",
    (sig) => instants(sig),
    600_000,
  );
  test("run-lock/AC-11: SIGKILL of Bulwark at random instants of a remediate; recover + rollback restore the image byte-identical", () => instants("SIGKILL"), 600_000);
});
