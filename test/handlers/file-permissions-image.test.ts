/**
 * The reference corpus's file_permission / file_exists checks and
 * file_permissions steps on the real Debian 12 root file system
 * (test/support/debian-image.ts), both Host paths: every check reaches a
 * verdict; every step captures, applies behind its footprint and rolls back,
 * leaving every mode and owner of the image as it was.
 */
import { describe, expect, test } from "bun:test";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { allHostPaths, createHost } from "../../src/host/index.ts";
import { RecordingHost } from "../../src/host/recording-host.ts";
import "../../src/handlers/index.ts";
import { getCheck } from "../../src/checks/index.ts";
import { filePermissions, type FilePermissionsParams, type FilePermissionsPre } from "../../src/handlers/file-permissions.ts";
import { CaptureIncomplete } from "../../src/handlers/mechanism.ts";
import { loadRulesFromPath } from "../../src/rules/load.ts";
import { copyImage, debianImage, IMAGE_PREREQUISITE, imageToolsPresent } from "../support/debian-image.ts";
import { prerequisite } from "../support/prereq.ts";
import { haveKensaFull, KENSA_FULL_DIR, testLookup } from "../rules/helpers.ts";

const ready = prerequisite(IMAGE_PREREQUISITE, haveKensaFull && imageToolsPresent());

/** Type, mode and owner of every entry (what file_permissions may change), never following a link. */
function metaDigest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, name));
      out.set(r, `${st.mode.toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(join(dir, name), r);
    }
  };
  walk(root, "");
  return out;
}

describe.skipIf(!ready)("the Debian 12 image", () => {
  const res = ready ? loadRulesFromPath(KENSA_FULL_DIR, { lookup: testLookup }) : { rules: [] };
  const checks = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.checks.map((c) => ({ rule: r.id, c }))))
    .filter(({ c }) => c.method === "file_permission" || c.method === "file_exists");
  const steps = res.rules.flatMap((r) => r.implementations.flatMap((i) => i.steps.map((s) => ({ rule: r.id, s }))))
    .filter(({ s }) => s.mechanism === "file_permissions");

  describe.each(allHostPaths)("%s host", (hostPath) => {
    test("file-permission/AC-07: every reference file_permission/file_exists check reaches a verdict on the pristine image (no error)", async () => {
      const host = createHost({ path: hostPath, root: debianImage() });
      const errors: string[] = [];
      const tally: Record<string, number> = {};
      for (const { rule, c } of checks) {
        const r = await getCheck(c.method)!.run(host, c.params);
        tally[r.status] = (tally[r.status] ?? 0) + 1;
        if (r.status === "error") errors.push(`${rule}: ${r.detail}`);
      }
      expect(errors).toEqual([]);
      expect(checks.length).toBe(43);
      console.log(`${hostPath}: ${JSON.stringify(tally)} over ${checks.length} checks`);
    }, 120_000);

    test("file-permissions/AC-14: on a copy of the image every reference step captures, applies behind its footprint and rolls back, leaving every mode and owner as it was", async () => {
      const copy = copyImage("debian12");
      try {
        const host = createHost({ path: hostPath, root: copy.root });
        const before = metaDigest(copy.root);
        const done: FilePermissionsPre[] = [];
        const stopped: string[] = [];
        let changed = 0;
        for (const { rule, s } of steps) {
          const p = s.params as FilePermissionsParams;
          let pre: FilePermissionsPre;
          try {
            pre = await filePermissions.capture(host, p);
          } catch (e) {
            // Only a name the image lacks (Ubuntu's syslog user, RHEL's ssh_keys group) may stop a capture.
            expect(e).toBeInstanceOf(CaptureIncomplete);
            expect((e as Error).message).toMatch(/no such (user|group) in the image's/);
            stopped.push(`${rule}: ${(e as Error).message}`);
            continue;
          }
          expect(v.safeParse(filePermissions.preState(p), JSON.parse(JSON.stringify(pre))).success).toBe(true);
          const rec = new RecordingHost(host, filePermissions.footprint(p));
          const r = await filePermissions.apply(rec, p, pre);
          expect(rec.violations).toEqual([]);
          expect({ rule, ok: r.ok, detail: r.ok ? "" : r.detail }).toEqual({ rule, ok: true, detail: "" });
          changed += pre.files.length;
          done.push(pre);
        }
        const during = metaDigest(copy.root);
        // The fix and the verdict agree: each applied rule's own file_permission check now passes (or its file is absent).
        const applied = new Set(steps.map((x) => x.rule).filter((r) => !stopped.some((m) => m.startsWith(`${r}:`))));
        const disagree: string[] = [];
        for (const { rule, c } of checks) {
          if (c.method !== "file_permission" || !applied.has(rule)) continue;
          const r = await getCheck(c.method)!.run(host, c.params);
          if (r.status !== "pass" && !r.detail.endsWith("is absent")) disagree.push(`${rule}: ${r.status} ${r.detail}`);
        }
        expect(disagree).toEqual([]);
        for (const pre of done.reverse()) expect((await filePermissions.rollback(host, pre)).ok).toBe(true);
        const after = metaDigest(copy.root);
        const diff = [...before.keys()].filter((k) => before.get(k) !== after.get(k));
        expect(diff).toEqual([]);
        expect(after.size).toBe(before.size);
        // The run changed something real (else the rollback proved nothing).
        expect(changed).toBeGreaterThan(0);
        expect([...before.keys()].some((k) => before.get(k) !== during.get(k))).toBe(true);
        console.log(`${hostPath}: ${steps.length} steps, ${done.length} applied, ${changed} objects changed and restored; stopped: ${stopped.length}`);
      } finally {
        copy.cleanup();
      }
    }, 600_000);
  });
});
