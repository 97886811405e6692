/**
 * install.sh against a real HTTP server on 127.0.0.1 (Bun.serve) serving a
 * release folder laid out as scripts/build-binary.ts --all lays out dist/.
 * The "binaries" here are small scripts so every case runs in milliseconds;
 * the checksum logic cannot tell the difference.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { makeSysroot } from "../support/sysroot.ts";
import { prerequisite } from "../support/prereq.ts";

const repo = join(import.meta.dir, "../..");
const script = join(repo, "install.sh");
const VERSION = "9.8.7";
const arch = process.arch === "arm64" ? "arm64" : "x64";
const hasAvx2 = readFileSync("/proc/cpuinfo", "utf8").includes(" avx2");
const variant = arch === "x64" && !hasAvx2 ? "x64-baseline" : arch;
const NAME = `bulwark-${VERSION}-linux-${variant}-glibc`;

let work: string;
let cleanup: () => void;
let release: string;
let server: ReturnType<typeof Bun.serve>;
let base: string;

function fakeBinary(tag: string): string {
  return `#!/bin/sh\necho "bulwark ${VERSION} ${tag}"\n`;
}

function writeRelease(dir: string, content: string, sumsFor = content): void {
  mkdirSync(join(dir, VERSION), { recursive: true });
  writeFileSync(join(dir, "LATEST"), VERSION + "\n");
  writeFileSync(join(dir, VERSION, NAME), content);
  const sum = createHash("sha256").update(sumsFor).digest("hex");
  writeFileSync(join(dir, VERSION, "SHA256SUMS"), `${sum}  ${NAME}\n${"0".repeat(64)}  bulwark-${VERSION}-linux-arm64-musl\n`);
}

async function runInstaller(args: string[], env: Record<string, string> = {}, asUser?: number) {
  const cmd = ["sh", script, ...args];
  const full = asUser === undefined ? cmd : ["setpriv", `--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", ...cmd];
  const p = Bun.spawn(full, {
    env: { PATH: process.env.PATH!, HOME: join(work, "home"), BULWARK_BASE_URL: base, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

beforeAll(() => {
  ({ root: work, cleanup } = makeSysroot("bulwark-install-"));
  chmodSync(work, 0o755);
  release = join(work, "release");
  writeRelease(release, fakeBinary("good"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const p = decodeURIComponent(new URL(req.url).pathname);
      const f = join(release, p);
      if (p.includes("..") || !existsSync(f)) return new Response("not found", { status: 404 });
      return new Response(Bun.file(f));
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => {
  server.stop(true);
  cleanup();
});

describe("install.sh", () => {
  test("installer/AC-01: happy path downloads, verifies and installs the latest version", async () => {
    const dir = join(work, "bin1");
    const r = await runInstaller(["--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("sha256 verified");
    const out = Bun.spawnSync([join(dir, "bulwark")]).stdout.toString();
    expect(out.trim()).toBe(`bulwark ${VERSION} good`);
  });

  test("installer/AC-02: a wrong checksum is refused and nothing is installed", async () => {
    const bad = join(work, "badrel");
    writeRelease(bad, fakeBinary("tampered"), fakeBinary("good"));
    const saved = release;
    release = bad;
    try {
      const dir = join(work, "bin2");
      const r = await runInstaller(["--dir", dir, "--version", VERSION]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("checksum mismatch");
      expect(existsSync(join(dir, "bulwark"))).toBe(false);
    } finally {
      release = saved;
    }
  });

  test("installer/AC-03: an unknown architecture is a clear error", async () => {
    const fakebin = join(work, "fakebin");
    mkdirSync(fakebin, { recursive: true });
    writeFileSync(join(fakebin, "uname"), "#!/bin/sh\necho mips64\n");
    chmodSync(join(fakebin, "uname"), 0o755);
    const dir = join(work, "bin3");
    const r = await runInstaller(["--dir", dir], { PATH: `${fakebin}:${process.env.PATH}` });
    expect(r.code).toBe(1);
    expect(r.err).toContain("unsupported architecture: mips64");
    expect(existsSync(join(dir, "bulwark"))).toBe(false);
  });

  test("installer/AC-04: air-gapped install from a folder and from a file, verified the same way", async () => {
    const usb = join(work, "usb");
    mkdirSync(usb, { recursive: true });
    writeFileSync(join(usb, "LATEST"), VERSION);
    writeFileSync(join(usb, NAME), fakeBinary("usb"));
    writeFileSync(join(usb, "SHA256SUMS"), `${createHash("sha256").update(fakeBinary("usb")).digest("hex")}  ${NAME}\n`);
    const dir = join(work, "bin4");
    // No base URL reachable: the network must not be used.
    const r = await runInstaller(["--from", usb, "--dir", dir], { BULWARK_BASE_URL: "http://127.0.0.1:9" });
    expect(r.code).toBe(0);
    expect(Bun.spawnSync([join(dir, "bulwark")]).stdout.toString()).toContain("usb");
    const r2 = await runInstaller(["--from", join(usb, NAME), "--dir", join(work, "bin4b")], { BULWARK_BASE_URL: "http://127.0.0.1:9" });
    expect(r2.code).toBe(0);
    writeFileSync(join(usb, NAME), fakeBinary("evil"));
    const r3 = await runInstaller(["--from", usb, "--dir", join(work, "bin4c")]);
    expect(r3.code).toBe(1);
    expect(r3.err).toContain("checksum mismatch");
    expect(existsSync(join(work, "bin4c", "bulwark"))).toBe(false);
  });

  test.skipIf(!prerequisite("root, to run the installer as another uid (setpriv)", process.getuid?.() === 0))("installer/AC-05: without root it falls back to ~/.local/bin", async () => {
    const home = join(work, "home");
    mkdirSync(home, { recursive: true });
    chownSync(home, 65534, 65534);
    const r = await runInstaller([], {}, 65534);
    expect(r.code).toBe(0);
    expect(r.err).toContain("not root");
    expect(existsSync(join(home, ".local/bin/bulwark"))).toBe(true);
    const u = await runInstaller(["--uninstall"], {}, 65534);
    expect(u.code).toBe(0);
    expect(existsSync(join(home, ".local/bin/bulwark"))).toBe(false);
  });

  test("installer/AC-06: the script is one function called on its last line, with set -eu", () => {
    const text = readFileSync(script, "utf8").trimEnd().split("\n");
    expect(text[text.length - 1]).toBe('bulwark_install "$@"');
    expect(text.some((l) => l.trim() === "set -eu")).toBe(true);
  });

  test("installer/AC-07: a version that is not listed in SHA256SUMS is refused", async () => {
    writeFileSync(join(release, VERSION, "SHA256SUMS"), `${"1".repeat(64)}  something-else\n`);
    try {
      const r = await runInstaller(["--dir", join(work, "bin7"), "--version", VERSION]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("not listed in SHA256SUMS");
    } finally {
      writeRelease(release, fakeBinary("good"));
    }
  });
});
