/**
 * The shell path exists for machines where libc cannot be loaded through
 * bun:ffi. `BULWARK_LIBC=/nonexistent` makes that so for the compiled binary;
 * remediate, rollback and recover (the three commands that take the run lock)
 * must all still work, end to end.
 */
import { beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary, bulwark, imageSnapshot, json, ubuntuRoot } from "../cli/helpers.ts";

const NO_FFI = { BULWARK_LIBC: "/nonexistent/libc.so.6" };
const RULES = ["--rule", "kmod-disable-cramfs", "--rule", "sysctl-net-ipv4-conf-all-send-redirects"];

beforeAll(() => buildBinary(), 180_000);

test("run-lock/AC-06: without FFI, the kernel-io path is unavailable and auto takes the shell path", () => {
  const { root, cleanup } = ubuntuRoot();
  try {
    const k = bulwark(["check", "--root", root, "--path", "kernel-io", ...RULES], NO_FFI);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain("/nonexistent/libc.so.6");
    const auto = json(bulwark(["check", "--root", root, "--format", "json", ...RULES], NO_FFI));
    expect(JSON.stringify(auto)).toContain('"shell"');
  } finally {
    cleanup();
  }
});

test("run-lock/AC-06: without FFI, remediate → rollback → crash → recover all work on the shell path, byte-identical", () => {
  const { root, cleanup } = ubuntuRoot();
  try {
    const before = imageSnapshot(root);
    const rem = bulwark(["remediate", "--root", root, "--format", "json", ...RULES], NO_FFI);
    expect(rem.code, rem.stderr).toBe(0);
    const report = json(rem);
    expect(report.transactions.map((t: any) => t.status)).toEqual(["committed", "committed"]);
    expect(imageSnapshot(root)).not.toEqual(before);
    // The lock file exists and was taken without libc; it names no holder once released.
    expect(existsSync(join(root, "var/lib/bulwark/state.lock"))).toBe(true);
    expect(readFileSync(join(root, "var/lib/bulwark/state.lock"), "utf8")).toBe("");

    const rb = bulwark(["rollback", "--last", "--root", root, "--format", "json"], NO_FFI);
    expect(rb.code, rb.stderr).toBe(0);
    expect(imageSnapshot(root)).toEqual(before);

    // A run killed after its first apply leaves an open journal; recover undoes it.
    const killed = bulwark(["remediate", "--root", root, "--format", "json", ...RULES], { ...NO_FFI, BULWARK_FAULT: "after-apply:1" });
    expect(killed.code).not.toBe(0);
    expect(imageSnapshot(root)).not.toEqual(before);
    const rec = bulwark(["recover", "--root", root, "--wait", "--format", "json"], NO_FFI);
    expect(rec.code, rec.stderr).toBe(0);
    expect(json(rec).recovered.map((r: any) => r.status)).toEqual(["recovered"]);
    expect(imageSnapshot(root)).toEqual(before);
  } finally {
    cleanup();
  }
}, 60_000);
