/**
 * The mid-apply fault points and BULWARK_FAULT_TRACE: a point after every
 * change a step completes through the Host, and a trace that names every
 * point a run passed, in order (what the image crash matrices enumerate).
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { createHost } from "../../src/host/index.ts";
import { openStore, recover, resolveStateDir } from "../../src/engine/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import { engineSysroot, runChild, snapshotHost } from "./fixtures/sysroot.ts";

test("transaction-engine/AC-12: BULWARK_FAULT_TRACE lists every point a run passes, mid-apply after each completed change", async () => {
  const { root, cleanup } = engineSysroot();
  try {
    const trace = join(root, "..", "trace");
    rmSync(trace, { force: true });
    // test_file_write: one write per step, so one mid-apply point per step.
    const r = await runChild({ root, hostPath: "kernel-io", mechanism: "test_file_write", key: "trace" }, { BULWARK_FAULT_TRACE: trace });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(trace, "utf8").trim().split("\n")).toEqual([
      "after-journal", "mid-apply:1.1", "after-apply:1", "mid-apply:2.1", "after-apply:2", "before-commit",
    ]);
    rmSync(trace);
  } finally {
    cleanup();
  }
});

test("transaction-engine/AC-12: killed at mid-apply:2.1, step 2's write is on disk and recover undoes both steps", async () => {
  const { root, cleanup } = engineSysroot();
  try {
    const before = snapshotHost(root);
    const r = await runChild({ root, hostPath: "shell", mechanism: "test_file_write", key: "mid" }, { BULWARK_FAULT: "mid-apply:2.1" });
    expect(r.signal, r.stderr).toBe("SIGKILL");
    // The kill came after the change, not before: the created file exists.
    expect(existsSync(join(root, "etc/bulwark-test/created.conf"))).toBe(true);
    const store = openStore(resolveStateDir({ root }));
    try {
      const reports = await recover({ store, host: createHost({ path: "shell", root }) });
      expect(reports.map((x) => x.status)).toEqual(["recovered"]);
      expect(snapshotHost(root)).toEqual(before);
    } finally {
      store.close();
    }
  } finally {
    cleanup();
  }
});

test("transaction-engine/AC-12: the recorder calls afterChange only after the inner Host completed, never for a refused change", async () => {
  const { root, cleanup } = engineSysroot();
  try {
    const seen: string[] = [];
    const inner = createHost({ path: "kernel-io", root });
    const rec = new RecordingHost(inner, ["/etc/bulwark-test/"], (n) => seen.push(`${n}:${existsSync(join(root, "etc/bulwark-test/a"))}`));
    await rec.writeFile("/etc/bulwark-test/a", new TextEncoder().encode("a\n"));
    await expect(rec.writeFile("/etc/passwd", new TextEncoder().encode("x\n"))).rejects.toThrow(/footprint/);
    await expect(rec.writeFile("/etc/bulwark-test/no/such/dir", new TextEncoder().encode("x\n"))).rejects.toThrow();
    await rec.removeFile("/etc/bulwark-test/a");
    expect(seen).toEqual(["1:true", "2:false"]);
  } finally {
    cleanup();
  }
});
