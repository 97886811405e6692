/**
 * Crash matrix: every kind of fault point × every registered mechanism × both
 * Hosts. A child run SIGKILLs itself at the point; recover must leave the
 * sysroot byte-identical (content, mode, owner) and the transaction
 * `recovered`. Inside a step, the kill comes after its first change
 * (mid-apply:S.1); the image matrices (test/handlers/unit-mount-crash.test.ts)
 * kill after every single change their runs trace.
 */
import { afterAll, describe, expect, test } from "bun:test";
import "./fixtures/registry-all.ts";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { openStore, recover, resolveStateDir } from "../../src/engine/index.ts";
import { engineSysroot, runChild, snapshotHost } from "./fixtures/sysroot.ts";
import { matrixMechanisms } from "./fixtures/sample-rules.ts";

const POINTS = ["after-journal", "mid-apply:1.1", "after-apply:1", "mid-apply:2.1", "after-apply:2", "mid-rollback", "before-commit"] as const;
const started = Date.now();
afterAll(() => console.log(`crash matrix: ${allHostPaths.length * matrixMechanisms().length * POINTS.length} cases in ${Date.now() - started} ms`));

describe.each(allHostPaths)("%s host", (hostPath) => {
  describe.each(matrixMechanisms())("%s", (mechanism) => {
    test.each(POINTS)("transaction-engine/AC-07: killed at %s, recover restores the sysroot byte-identical", async (point) => {
      const { root, cleanup } = engineSysroot();
      try {
        const before = snapshotHost(root);
        // mid-rollback is only reached when validation fails and the engine rolls back.
        const after = point === "mid-rollback" ? "fail" : "pass";
        const r = await runChild({ root, hostPath, mechanism, key: point, after }, { BULWARK_FAULT: point });
        expect(r.signal, `child stderr: ${r.stderr}`).toBe("SIGKILL");

        const store = openStore(resolveStateDir({ root }));
        try {
          const [open] = store.openJournalTxnIds();
          expect(open).toBeDefined();
          expect(store.txn(open!)!.status).not.toBe("recovered");
          const reports = await recover({ store, host: createHost({ path: hostPath, root }) });
          expect(reports.map((x) => [x.txnId, x.status])).toEqual([[open!, "recovered"]]);
          expect(snapshotHost(root)).toEqual(before);
          expect(store.txn(open!)!.status).toBe("recovered");
          expect(store.openJournalTxnIds()).toEqual([]);
          // Recover is idempotent: a second one finds nothing to do.
          expect(await recover({ store, host: createHost({ path: hostPath, root }) })).toEqual([]);
        } finally {
          store.close();
        }
      } finally {
        cleanup();
      }
    }, 120_000); // the service mechanisms' shell path gathers the unit search path several times per run: ~15 s under load
  });

  test("transaction-engine/AC-07: the matrix is not vacuous — after-apply:1 leaves the sysroot changed until recover", async () => {
    const { root, cleanup } = engineSysroot();
    try {
      const before = snapshotHost(root);
      await runChild({ root, hostPath, mechanism: "test_file_write", key: "x" }, { BULWARK_FAULT: "after-apply:1" });
      expect(snapshotHost(root)).not.toEqual(before);
    } finally {
      cleanup();
    }
  });
});
