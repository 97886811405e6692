#!/usr/bin/env bun
/**
 * Build the single-file binary with `bun build --compile`.
 *
 *   bun scripts/build-binary.ts            → dist/bulwark for this machine
 *   bun scripts/build-binary.ts --all      → every supported target, named
 *                                            bulwark-VERSION-linux-ARCH[-baseline]-(glibc|musl),
 *                                            + SHA256SUMS and LATEST (what install.sh reads)
 *
 * The version and git commit are compiled in. The output is never stripped:
 * strip/UPX drop the embedded payload and leave a plain `bun`.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");
// Bun target → the libc-explicit name install.sh looks for.
const TARGETS = {
  "linux-x64": "linux-x64-glibc",
  "linux-x64-baseline": "linux-x64-baseline-glibc",
  "linux-arm64": "linux-arm64-glibc",
  "linux-x64-musl": "linux-x64-musl",
  "linux-arm64-musl": "linux-arm64-musl",
} as const;

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: repo });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

async function build(outfile: string, target?: string): Promise<void> {
  const args = [
    process.execPath, "build", "--compile", join(repo, "src/cli/main.ts"), "--outfile", outfile,
    "--define", `BULWARK_VERSION=${JSON.stringify(pkg.version)}`,
    "--define", `BULWARK_COMMIT=${JSON.stringify(gitCommit())}`,
    "--minify-syntax",
    "--splitting",
    "--format=esm",
    // Measured: `bulwark version` median 20.6 ms → 9.7 ms with bytecode (40 runs each, same run, full CLI).
    "--bytecode",
    // JavaScriptCore's tier-up thresholds ×100: a run is over in tens of milliseconds, and at the normal
    // policy `check` of the kernel rules JIT-compiled ~125 functions (13 of them with the DFG) it ran a few
    // dozen times each, which the compile cost more than it saved. Measured, same run, 11 interleaved:
    // that check 150 → 111 ms wall, 158 → 102 ms CPU (--version 68 → 61); a 4 MB dpkg status check
    // 382 → 339 ms; N=1000 remediate no slower. Really hot loops still reach the JIT, just later
    // (performance/AC-21). Only thresholds change: bun:ffi, which needs the JIT, keeps it.
    "--compile-jit-policy=100",
    // A standalone executable would otherwise read bunfig.toml (whose preload runs code) and .env files
    // (BULWARK_LIBC is dlopen'ed) from the directory it is started in: often an untrusted image (hostile-image/AC-19).
    "--no-compile-autoload-bunfig",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-tsconfig",
    "--no-compile-autoload-package-json",
  ];
  if (target) args.push(`--target=bun-${target}`);
  const p = Bun.spawn(args, { cwd: repo, stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error(`bun build --compile failed for ${target ?? "host"}`);
}

mkdirSync(dist, { recursive: true });
if (process.argv.includes("--all")) {
  const sums: string[] = [];
  for (const [t, suffix] of Object.entries(TARGETS)) {
    const name = `bulwark-${pkg.version}-${suffix}`;
    await build(join(dist, name), t);
    const hash = createHash("sha256").update(readFileSync(join(dist, name))).digest("hex");
    sums.push(`${hash}  ${name}`);
    console.log(`${name}  ${(statSync(join(dist, name)).size / 1e6).toFixed(1)} MB`);
  }
  writeFileSync(join(dist, "SHA256SUMS"), sums.join("\n") + "\n");
  writeFileSync(join(dist, "LATEST"), pkg.version + "\n");
  const host = `linux-${process.arch === "arm64" ? "arm64" : "x64"}-glibc`;
  const tmp = join(dist, `.bulwark-${process.pid}.tmp`);
  copyFileSync(join(dist, `bulwark-${pkg.version}-${host}`), tmp);
  renameSync(tmp, join(dist, "bulwark"));
} else {
  // Built beside and renamed over: test files running in parallel rebuild it while others execute
  // it, and a rename never shows them a missing or half-written dist/bulwark (ENOENT, ETXTBSY).
  const tmp = join(dist, `.bulwark-${process.pid}.tmp`);
  await build(tmp);
  renameSync(tmp, join(dist, "bulwark"));
  console.log(`dist/bulwark  ${(statSync(join(dist, "bulwark")).size / 1e6).toFixed(1)} MB`);
}
