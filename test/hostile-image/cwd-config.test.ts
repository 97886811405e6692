/**
 * hostile-image/AC-19: the compiled binary reads no runtime configuration from
 * the directory it is started in. A standalone Bun executable loads
 * `bunfig.toml` (whose `preload` runs code) and `.env*` files (whose variables
 * reach process.env, e.g. BULWARK_LIBC, which is dlopen'ed) from its working
 * directory unless the build turns that off. An operator who runs
 * `cd /mnt/image && bulwark check --root .` must not run code or take settings
 * from the image.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, buildBinary, ubuntuRoot } from "../cli/helpers.ts";

let img: { root: string; cleanup(): void };
const MARK = () => join(img.root, "preload-ran");

beforeAll(() => {
  buildBinary();
  img = ubuntuRoot();
  // The preload would leave a marker file; every .env variant Bun knows names a libc that does not exist.
  writeFileSync(join(img.root, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
  writeFileSync(join(img.root, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(MARK())}, "ran");\n`);
  for (const f of [".env", ".env.local", ".env.production", ".env.development"]) {
    writeFileSync(join(img.root, f), "BULWARK_LIBC=/nonexistent/libevil.so\nBULWARK_DEBUG=1\n");
  }
});
afterAll(() => img.cleanup());

function runIn(cwd: string, args: string[]) {
  rmSync(MARK(), { force: true });
  const r = Bun.spawnSync([BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), out: r.stdout.toString() + r.stderr.toString() };
}

describe("hostile-image/AC-19: bunfig.toml and .env in the working directory are ignored", () => {
  test("hostile-image/AC-19: doctor started inside the image runs no preload and takes no variable from .env", () => {
    const r = runIn(img.root, ["doctor", "--format", "json"]);
    expect(existsSync(MARK())).toBe(false);
    expect(r.out).not.toContain("libevil");
    expect(r.code).toBe(0);
  });

  test("hostile-image/AC-19: check --root . started inside the image runs no preload and keeps the kernel-io path", () => {
    const r = runIn(img.root, ["check", "--root", ".", "--tag", "sysctl", "--format", "json"]);
    expect(existsSync(MARK())).toBe(false);
    expect(r.out).not.toContain("libevil");
    // Exit 2: some rules fail (docs/output.md); the verdicts came through kernel io, not a libc from .env.
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).meta.host.path).toBe("kernel-io");
  });
});
