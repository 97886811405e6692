/**
 * An image is untrusted: its `var/lib/bulwark/state.lock` may be a symlink to
 * a host file, a FIFO, or a hard link to a file outside the image (issue
 * 10.2). remediate, rollback and recover must refuse it, name it, and leave
 * whatever it points to untouched — on both paths.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allHostPaths } from "../../src/host/index.ts";
import { buildBinary, bulwark, ubuntuRoot } from "../cli/helpers.ts";
import { sh } from "../support/sysroot.ts";

const RULES = ["--rule", "kmod-disable-cramfs"];
const COMMANDS: [string, string[]][] = [
  ["remediate", ["remediate", ...RULES]],
  ["rollback", ["rollback", "--last"]],
  ["recover", ["recover"]],
];

beforeAll(() => buildBinary(), 180_000);

let root: string;
let cleanupRoot: () => void;
let outside: string;
beforeEach(() => {
  ({ root, cleanup: cleanupRoot } = ubuntuRoot());
  // "The host": a directory outside the image, on the same filesystem (so a hard link can reach it).
  outside = mkdtempSync(join(tmpdir(), "bulwark-host-"));
  writeFileSync(join(outside, "precious"), "host bytes\n");
});
afterEach(() => {
  cleanupRoot();
  rmSync(outside, { recursive: true, force: true });
});

/**
 * A real state database first (rollback and recover open only an existing one, and with none they touch
 * nothing at all), then the image's lock file is taken away so the test can plant a hostile one.
 */
function withState(hostPath: string): void {
  const r = bulwark(["remediate", ...RULES, "--root", root, "--path", hostPath]);
  if (r.code !== 0) throw new Error(`setup remediate failed: ${r.stderr}`);
  rmSync(join(root, "var/lib/bulwark/state.lock"));
}

const precious = () => ({ bytes: readFileSync(join(outside, "precious"), "utf8"), mtime: statSync(join(outside, "precious")).mtimeMs });

describe.each(allHostPaths)("%s path", (hostPath) => {
  test.each(COMMANDS)("run-lock/AC-05: %s refuses a state.lock symlinked to a host file and leaves that file alone", (_, args) => {
    withState(hostPath);
    symlinkSync(join(outside, "precious"), join(root, "var/lib/bulwark/state.lock"));
    const before = precious();
    const r = bulwark([...args, "--root", root, "--path", hostPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`refusing ${join(root, "var/lib/bulwark/state.lock")} for the run lock: it is a symlink (-> ${join(outside, "precious")})`);
    expect(r.stderr).toContain("nothing was written");
    expect(precious()).toEqual(before);
  });

  test.each(COMMANDS)("run-lock/AC-05: %s refuses a state.lock hard-linked to a file outside the image", (_, args) => {
    withState(hostPath);
    linkSync(join(outside, "precious"), join(root, "var/lib/bulwark/state.lock"));
    const before = precious();
    const r = bulwark([...args, "--root", root, "--path", hostPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("it has 2 hard links");
    expect(precious()).toEqual(before);
  });

  test("run-lock/AC-05: a FIFO at state.lock is refused at once, not waited on", () => {
    withState(hostPath);
    sh(`mkfifo '${join(root, "var/lib/bulwark/state.lock")}'`);
    const r = bulwark(["remediate", ...RULES, "--root", root, "--path", hostPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("for the run lock: it is a FIFO");
  });

  test("run-lock/AC-05: a symlinked var/lib/bulwark inside the image is refused; nothing is created outside", () => {
    mkdirSync(join(root, "var/lib"), { recursive: true });
    symlinkSync(outside, join(root, "var/lib/bulwark"));
    const r = bulwark(["remediate", ...RULES, "--root", root, "--path", hostPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(root, "var/lib/bulwark")} is a symlink (-> ${outside}) inside the image`);
    expect(sh(`ls -A '${outside}'`).trim()).toBe("precious");
  });
});

test("run-lock/AC-05: a fresh image gets var and var/lib 0755 and only var/lib/bulwark 0700", () => {
  const { root: bare, cleanup } = ubuntuRoot();
  try {
    rmSync(join(bare, "var"), { recursive: true });
    const r = bulwark(["remediate", ...RULES, "--root", bare]);
    expect(r.code, r.stderr).toBe(0);
    const mode = (p: string) => (statSync(join(bare, p)).mode & 0o777).toString(8);
    expect([mode("var"), mode("var/lib"), mode("var/lib/bulwark")]).toEqual(["755", "755", "700"]);
    expect((statSync(join(bare, "var/lib/bulwark/state.lock")).mode & 0o777).toString(8)).toBe("600");
  } finally {
    cleanup();
  }
});
