/**
 * The shell path's run cache asks the persistent shell once per miss: the
 * stamp that later tells the cache to read again is taken in the read's own
 * script (issue 14.4). Counted: scripts run and `stat` programs started.
 */
import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CachedHost } from "../../src/host/cached-host.ts";
import { persistentShell } from "../../src/host/executor.ts";
import { ShellHost } from "../../src/host/shell-host.ts";
import { resolveLogical } from "../../src/checks/fs-gather.ts";
import { makeSysroot, seed } from "../support/sysroot.ts";
import { counting, wrapPrograms } from "./exec-count.ts";

// A `stat` wrapper in front of PATH notes each start.
const { starts: statStarts } = wrapPrograms(["stat"]);

test("performance/AC-11: through the run cache, a shell read of N files, a listing and a readlink are one script each, N files start one `stat`, and the stamps equal statStamps'", async () => {
  const s = makeSysroot("bulwark-shell-batch-");
  const c = counting(persistentShell());
  try {
    seed(s.root, { "etc/sysctl.d/10-a.conf": "a = 1\n", "etc/sysctl.d/20-b.conf": "b = 2\n", "etc/sysctl.d/30-c.conf": "" });
    symlinkSync("20-b.conf", join(s.root, "etc/sysctl.d/40-link.conf"));
    const shell = new ShellHost(s.root, c.exec);
    const cache = new CachedHost(shell);
    const files = ["/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/20-b.conf", "/etc/sysctl.d/30-c.conf", "/etc/sysctl.d/99-absent.conf"];
    await shell.statStamps(["/"]); // the shell is up and the wrapper is in its PATH
    const runs0 = c.runs(), stats0 = statStarts();

    const listing = await cache.listDir("/etc/sysctl.d");
    expect(listing?.map((e) => `${e.type} ${e.name}`)).toEqual(["file 10-a.conf", "file 20-b.conf", "file 30-c.conf", "symlink 40-link.conf"]);
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([1, 1]);

    const states = await cache.readFiles(files);
    expect(states.map((x) => (x.exists ? Buffer.from(x.bytes).toString() : null))).toEqual(["a = 1\n", "b = 2\n", "", null]);
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([2, 2]);

    expect(await cache.readLink("/etc/sysctl.d/40-link.conf")).toBe("20-b.conf");
    expect([c.runs() - runs0, statStarts() - stats0]).toEqual([3, 3]);

    // Cached: nothing asked again.
    await cache.readFiles(files);
    await cache.listDir("/etc/sysctl.d");
    await cache.readLink("/etc/sysctl.d/40-link.conf");
    expect(c.runs() - runs0).toBe(3);

    // The stamps taken with the reads are the ones statStamps gives, so revalidate keeps what did not change.
    const together = await shell.readFilesStamped!(files);
    expect(together.map((x) => x.stamp)).toEqual(await shell.statStamps(files));
    expect((await shell.listDirStamped!("/etc/sysctl.d")).stamp).toEqual((await shell.statStamps(["/etc/sysctl.d"]))[0]!);
    expect((await shell.readLinkStamped!("/etc/sysctl.d/40-link.conf")).stamp).toEqual((await shell.statStamps(["/etc/sysctl.d/40-link.conf"]))[0]!);
  } finally {
    s.cleanup();
  }
}, 60_000);

test("performance/AC-12: through the run cache, a shell write of a cached file in a listed directory is one script — stale check, directory stamps before and after, write — and its stamps equal statStamps'", async () => {
  const s = makeSysroot("bulwark-shell-batch-write-");
  const c = counting(persistentShell());
  try {
    seed(s.root, { "etc/sysctl.d/10-a.conf": "a = 1\n" });
    chmodSync(join(s.root, "etc/sysctl.d/10-a.conf"), 0o640);
    // Past the racy window of the shell's 1 s stamps (2,050 ms): a stamp this fresh is re-read, not trusted.
    await Bun.sleep(2_100);
    const shell = new ShellHost(s.root, c.exec);
    const cache = new CachedHost(shell);
    await cache.listDir("/etc/sysctl.d");
    await cache.readFiles(["/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/20-new.conf"]);
    await shell.writeFile("/etc/warm-up", new Uint8Array()); // the root's physical path is asked once per Host
    const runs0 = c.runs();
    await cache.writeFile("/etc/sysctl.d/10-a.conf", new TextEncoder().encode("a = 2\n"));
    await cache.writeFile("/etc/sysctl.d/20-new.conf", new TextEncoder().encode("b = 1\n"), { mode: 0o600 });
    expect(c.runs() - runs0).toBe(2);
    expect(readFileSync(join(s.root, "etc/sysctl.d/10-a.conf"), "utf8")).toBe("a = 2\n");
    // The old mode and owner carried over; the new file got the mode asked for.
    const [a, b] = await shell.readFiles(["/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/20-new.conf"]);
    expect([a!.exists && a!.mode, b!.exists && b!.mode]).toEqual([0o640, 0o600]);
    // The cached listing kept (our own change, stamped in the write's script), edited, and equal to the disk's.
    const runs1 = c.runs();
    expect((await cache.listDir("/etc/sysctl.d"))?.map((e) => e.name)).toEqual(["10-a.conf", "20-new.conf"]);
    expect(c.runs()).toBe(runs1);

    const w = await shell.writeFileStamped!("/etc/sysctl.d/10-a.conf", new TextEncoder().encode("a = 3\n"), {}, (await shell.statStamps(["/etc/sysctl.d/10-a.conf"]))[0]!);
    expect(w.written && w.dirAfter).toEqual((await shell.statStamps(["/etc/sysctl.d"]))[0]!);
  } finally {
    s.cleanup();
  }
}, 60_000);

test("performance/AC-12: a shell write whose file is not at the expected stamp writes nothing (stale), and an absent file expected present likewise", async () => {
  const s = makeSysroot("bulwark-shell-batch-stale-");
  try {
    seed(s.root, { "etc/sysctl.d/10-a.conf": "a = 1\n" });
    const shell = new ShellHost(s.root);
    const f = join(s.root, "etc/sysctl.d/10-a.conf");
    const before = (await shell.statStamps(["/etc/sysctl.d/10-a.conf"]))[0]!;
    expect(await shell.writeFileStamped!("/etc/sysctl.d/10-a.conf", new TextEncoder().encode("x\n"), {}, before.replace(/:\d+:/, ":999999999:"))).toEqual({ written: false });
    expect(readFileSync(f, "utf8")).toBe("a = 1\n");
    expect(await shell.writeFileStamped!("/etc/sysctl.d/10-a.conf", new TextEncoder().encode("x\n"), {}, null)).toEqual({ written: false });
    expect(await shell.writeFileStamped!("/etc/sysctl.d/30-gone.conf", new TextEncoder().encode("x\n"), {}, before)).toEqual({ written: false });
    expect(readFileSync(f, "utf8")).toBe("a = 1\n");
    expect(readdirSync(join(s.root, "etc/sysctl.d"))).toEqual(["10-a.conf"]);
    // The symlink refusal is unchanged on this path.
    symlinkSync("10-a.conf", join(s.root, "etc/sysctl.d/40-link.conf"));
    await expect(shell.writeFileStamped!("/etc/sysctl.d/40-link.conf", new TextEncoder().encode("x\n"), {}, undefined)).rejects.toThrow(/symlink/i);
    expect(readFileSync(f, "utf8")).toBe("a = 1\n");
  } finally {
    s.cleanup();
  }
}, 60_000);

test("performance/AC-13: on the shell path, resolving a logical path through the run cache reads the links of all its components in one script, with readLink's answers, stamps and refusals", async () => {
  const s = makeSysroot("bulwark-shell-batch-links-");
  const c = counting(persistentShell());
  try {
    seed(s.root, { "etc/ssh/sshd_config.d/10-a.conf": "PermitRootLogin no\n", "usr/lib/x.conf": "x\n" });
    symlinkSync("sshd_config.d/10-a.conf", join(s.root, "etc/ssh/link.conf"));
    symlinkSync("/usr/lib", join(s.root, "etc/libdir"));
    const shell = new ShellHost(s.root, c.exec);
    const cache = new CachedHost(shell);
    await shell.statStamps(["/"]);
    const runs0 = c.runs();
    expect(await resolveLogical(cache, "/etc/ssh/sshd_config.d/10-a.conf")).toBe("/etc/ssh/sshd_config.d/10-a.conf");
    expect(c.runs() - runs0).toBe(1);
    // A link in the last component: its target's components are new paths, read together again.
    expect(await resolveLogical(cache, "/etc/ssh/link.conf")).toBe("/etc/ssh/sshd_config.d/10-a.conf");
    expect(c.runs() - runs0).toBe(2);

    const paths = ["/etc", "/etc/ssh", "/etc/ssh/link.conf", "/etc/absent", "/etc/libdir", "/etc/libdir/x.conf", "/etc/ssh/sshd_config.d/10-a.conf/below"];
    const batch = await shell.readLinksStamped!(paths);
    const one = await Promise.all(paths.map((p) => shell.readLinkStamped(p).then((x) => x, (e: Error) => e.name)));
    // Every answered path as readLink answers it; the refused ones (a symlink or a file as a component) left to readLink, which refuses them.
    expect(batch.map((x, i) => (x === null ? one[i] : x))).toEqual(one);
    expect(batch.map((x) => x === null)).toEqual([false, false, false, false, false, true, true]);
    await expect(cache.readLink("/etc/libdir/x.conf")).rejects.toThrow(/symlink/i);
  } finally {
    s.cleanup();
  }
}, 60_000);
