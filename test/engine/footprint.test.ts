import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import "./fixtures/registry-all.ts";
import { allHostPaths } from "../../src/host/index.ts";
import { FootprintViolation, RecordingHost, footprintAllows } from "../../src/host/recording-host.ts";
import { runRemediation } from "../../src/engine/index.ts";
import { engineContext, rule } from "./fixtures/context.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe.each(allHostPaths)("%s host", (hostPath) => {
  let c: ReturnType<typeof engineContext>;
  beforeEach(() => (c = engineContext(hostPath)));
  afterEach(() => c.done());

  test("footprint-gate/AC-01: the recorder forwards everything, the capability set unchanged", async () => {
    const rec = new RecordingHost(c.host);
    expect(rec.capabilities).toBe(c.host.capabilities);
    expect([rec.path, rec.root, rec.offline]).toEqual([c.host.path, c.host.root, c.host.offline]);
    await rec.writeFile("/etc/bulwark-test/r.conf", enc("r\n"));
    expect(await rec.readFile("/etc/bulwark-test/r.conf")).toEqual(await c.host.readFile("/etc/bulwark-test/r.conf"));
    expect(await rec.listDir("/etc/bulwark-test")).toEqual(await c.host.listDir("/etc/bulwark-test"));
    expect(await rec.loadedModules()).toEqual(await c.host.loadedModules());
    expect(await rec.unloadModule("cramfs")).toEqual(await c.host.unloadModule("cramfs"));
  });

  test("footprint-gate/AC-02: the recorder records logical paths written, removed and mkdir'd", async () => {
    const rec = new RecordingHost(c.host);
    await rec.mkdirp("/etc/new.d");
    await rec.writeFile("/etc/new.d/a.conf", enc("a"));
    await rec.removeFile("/etc/bulwark-test/existing.conf");
    await rec.removeFile("/etc/absent");
    expect(rec.touched).toEqual([
      { op: "mkdir", path: "/etc/new.d" },
      { op: "write", path: "/etc/new.d/a.conf" },
      { op: "remove", path: "/etc/bulwark-test/existing.conf" },
      { op: "remove", path: "/etc/absent" },
    ]);
    expect(rec.changedFiles()).toEqual(["/etc/absent", "/etc/bulwark-test/existing.conf", "/etc/new.d/a.conf"]);
  });

  test("footprint-gate/AC-03: a change outside the footprint is refused before it reaches the host", async () => {
    const rec = new RecordingHost(c.host, ["/etc/modprobe.d/bulwark-x.conf"]);
    await rec.mkdirp("/etc/modprobe.d"); // a footprint file's parent: allowed
    await expect(rec.writeFile("/etc/passwd", enc("x"))).rejects.toThrow(FootprintViolation);
    await expect(rec.removeFile("/etc/bulwark-test/existing.conf")).rejects.toThrow("outside the step's footprint");
    expect(existsSync(join(c.root, "etc/passwd"))).toBe(false);
    expect(existsSync(join(c.root, "etc/bulwark-test/existing.conf"))).toBe(true);
    expect(rec.violations.map((v) => v.path)).toEqual(["/etc/passwd", "/etc/bulwark-test/existing.conf"]);
    expect(footprintAllows(["/etc/sysctl.d/"], "write", "/etc/sysctl.d/99-x.conf")).toBe(true);
    expect(footprintAllows(["/etc/sysctl.d/"], "write", "/etc/sysctl.d.bak")).toBe(false);
    expect(footprintAllows(["/etc/a.conf"], "mkdir", "/etc/a.conf.d")).toBe(false);
    expect(footprintAllows(["/etc/a.conf"], "write", "/etc/x/../a.conf")).toBe(false);
  });

  test("footprint-gate/AC-04: the engine refuses to commit a step that touched outside its footprint; sysroot unchanged", async () => {
    const before = c.snap();
    const r = await runRemediation({
      store: c.store,
      host: c.host,
      rules: [rule([{ mechanism: "test_bad_stray_write", params: { path: "/etc/bulwark-test/ok.conf", content: "ok\n", stray: "/etc/shadow" } }])],
    });
    const t = r.transactions[0]!;
    expect(t.status).toBe("rolled_back");
    expect(t.detail).toContain("footprint: refusing write /etc/shadow: outside the step's footprint [/etc/bulwark-test/ok.conf]");
    expect(c.snap()).toEqual(before);
    expect(c.store.txn(t.txnId!)!.rollbacks.map((e) => e.trigger)).toEqual(["footprint"]);
  });
});
