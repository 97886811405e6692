/**
 * The crash matrix for the package mechanisms, on a copy of the real Debian
 * 12 image (engineSysroot has no package database): a child run SIGKILLs
 * itself at each fault point of a two-step package_absent / package_present
 * transaction (test/engine/fixtures/sample-rules.ts), then `recover` must
 * leave the packages as captured — judged by dpkg-query and the bytes of the
 * dpkg database (status-old excepted) — and the transaction `recovered`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "../engine/fixtures/registry-all.ts";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { openStore, recover, resolveStateDir } from "../../src/engine/index.ts";
import { runChild } from "../engine/fixtures/sysroot.ts";
import { copyImage, IMAGE_PREREQUISITE, imageToolsPresent, type ImageCopy } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { buildDeb, cacheDeb, dpkgDbDigest, dpkgInstall, dpkgQuery, localRepo } from "./package-fixtures.ts";

const ready = prerequisite(IMAGE_PREREQUISITE, imageToolsPresent()) && prerequisite("dpkg-deb and dpkg-scanpackages", Bun.spawnSync(["sh", "-c", "command -v dpkg-deb && command -v dpkg-scanpackages"]).exitCode === 0);
const POINTS = ["after-journal", "after-apply:1", "after-apply:2", "mid-rollback", "before-commit"] as const;
const DB_VOLATILE = (rel: string) => rel === "status-old" || rel === "lock" || rel === "lock-frontend" || rel === "triggers/Lock";

const SPECS = [
  { name: "bw-demo", version: "1:1.2-3", conf: "demo\n" },
  { name: "bw-tool-a", version: "1.0-1" },
  { name: "bw-tool-b", version: "3.1-2", conf: "b\n" },
  { name: "bw-lib", version: "2.0-1", conf: "lib\n" },
  { name: "bw-app", version: "0.9-1", depends: "bw-lib" },
  { name: "bw-extra", version: "5-1" },
];

describe.skipIf(!ready)("package crash matrix on the Debian 12 image", () => {
  describe.each(allHostPaths)("%s host", (hostPath) => {
    let img: ImageCopy;
    let debs: string;
    beforeAll(() => {
      img = copyImage("debian12");
      debs = mkdtempSync(join(tmpdir(), "bulwark-debs-"));
      const files = SPECS.map((s) => buildDeb(debs, s));
      localRepo(img.root, files);
      dpkgInstall(img.root, files.slice(0, 3)); // bw-demo, bw-tool-a, bw-tool-b installed; the rest in the repository
      for (const f of files.slice(0, 3)) cacheDeb(img.root, f);
    }, 180_000);
    afterAll(() => {
      img?.cleanup();
      if (debs) rmSync(debs, { recursive: true, force: true });
    }, 120_000);

    describe.each(["package_absent", "package_present"])("%s", (mechanism) => {
      test.each(POINTS)("package-mechanisms/AC-09: killed at %s, recover leaves the packages as captured (dpkg-query, dpkg database bytes)", async (point) => {
        const before = dpkgQuery(img.root);
        const db = dpkgDbDigest(img.root, DB_VOLATILE);
        const after = point === "mid-rollback" ? "fail" : "pass";
        const r = await runChild({ root: img.root, hostPath, mechanism, key: point, after }, { BULWARK_FAULT: point });
        expect(r.signal, `child stderr: ${r.stderr} stdout: ${r.stdout}`).toBe("SIGKILL");
        const store = openStore(resolveStateDir({ root: img.root }));
        try {
          const [open] = store.openJournalTxnIds();
          expect(open).toBeDefined();
          const reports = await recover({ store, host: createHost({ path: hostPath, root: img.root }) });
          expect(reports.map((x) => [x.txnId, x.status, x.detail])).toEqual([[open!, "recovered", expect.any(String)]]);
          expect(dpkgQuery(img.root)).toBe(before);
          expect([...dpkgDbDigest(img.root, DB_VOLATILE)].filter(([k, h]) => db.get(k) !== h).map(([k]) => k)).toEqual([]);
          expect(store.openJournalTxnIds()).toEqual([]);
        } finally {
          store.close();
        }
      }, 240_000);
    });
  });
});
