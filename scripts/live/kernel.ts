/**
 * Fetches a real Debian kernel (vmlinuz + its module tree) through apt, into
 * `.cache/live-kernel/` at the repo root (gitignored via `.cache/`).
 *
 * Why apt and not a URL: the only network CI and build machines reach is the
 * Debian mirror, and apt already knows which mirror and which version is
 * current. The cache is keyed by the version of the `linux-image-amd64`
 * meta-package, so a warm run needs no network at all (`apt-cache policy` is
 * answered from the local lists) and a new point release is picked up by the
 * first run after `apt-get update`.
 *
 * Delete `.cache/live-kernel/` to force a cold fetch; old versions are never
 * pruned automatically (each is ~450 MB extracted).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, run, runOk } from "./exec.ts";

export interface LiveKernel {
  /** Kernel release as `uname -r` prints it, e.g. `6.1.0-56-amd64`. */
  readonly kver: string;
  /** Absolute path of the bootable image. */
  readonly vmlinuz: string;
  /** Absolute path of `lib/modules/KVER` (with a full `modules.dep`). */
  readonly modulesDir: string;
  /** The versioned image package it came from, e.g. `linux-image-6.1.0-56-amd64`. */
  readonly imagePackage: string;
  /** Version of `linux-image-amd64` that selected it; the cache key. */
  readonly metaVersion: string;
}

interface CacheRecord {
  readonly kver: string;
  readonly imagePackage: string;
  readonly metaVersion: string;
  /** Relative to the entry folder, so the cache survives the repo moving. */
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

const META_PACKAGE = "linux-image-amd64";
const RECORD = "kernel.json";

export const defaultCacheDir: string = join(repoRoot, ".cache", "live-kernel");

export interface FetchOptions {
  readonly cacheDir?: string;
  /** Progress lines (cold fetch takes tens of seconds); defaults to stderr. */
  readonly log?: (line: string) => void;
}

export async function fetchKernel(opts: FetchOptions = {}): Promise<LiveKernel> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir;
  const log = opts.log ?? ((l: string) => process.stderr.write(`[live-kernel] ${l}\n`));
  mkdirSync(cacheDir, { recursive: true });

  let candidate = await candidateVersion();
  if (candidate) {
    const hit = await readEntry(cacheDir, candidate);
    if (hit) return hit;
  }

  try {
    return await downloadAndExtract(cacheDir, candidate, log);
  } catch (first) {
    // Stale or missing lists make apt ask the mirror for a file that no
    // longer exists; refreshing is the only fix, and it is slow, so only now.
    log(`download failed, running apt-get update: ${String(first).split("\n")[0]}`);
    const upd = await run(["apt-get", "update", "-qq"]);
    if (upd.code !== 0) {
      const fallback = await newestEntry(cacheDir);
      if (fallback) {
        log(`apt-get update failed; reusing cached ${fallback.imagePackage}`);
        return fallback;
      }
      throw new Error(`apt-get update failed:\n${upd.stderr}`);
    }
    candidate = await candidateVersion();
    if (candidate) {
      const hit = await readEntry(cacheDir, candidate);
      if (hit) return hit;
    }
    return downloadAndExtract(cacheDir, candidate, log);
  }
}

/** Answered from local apt lists: no network. Undefined when apt has no lists. */
async function candidateVersion(): Promise<string | undefined> {
  const r = await run(["apt-cache", "policy", META_PACKAGE], { env: { LC_ALL: "C" } });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout);
  return m?.[1] && m[1] !== "(none)" ? m[1] : undefined;
}

function entryDir(cacheDir: string, metaVersion: string): string {
  // Epochs ("1:2.3") are legal in versions but awkward in paths.
  return join(cacheDir, `${META_PACKAGE}_${metaVersion.replaceAll(":", "%3a")}`);
}

async function readEntry(cacheDir: string, metaVersion: string): Promise<LiveKernel | undefined> {
  return readRecord(entryDir(cacheDir, metaVersion));
}

async function readRecord(dir: string): Promise<LiveKernel | undefined> {
  const file = Bun.file(join(dir, RECORD));
  if (!(await file.exists())) return undefined;
  const rec = (await file.json()) as CacheRecord;
  const vmlinuz = join(dir, rec.vmlinuz);
  const modulesDir = join(dir, rec.modulesDir);
  if (!existsSync(vmlinuz) || !existsSync(join(modulesDir, "modules.dep"))) return undefined;
  return { kver: rec.kver, imagePackage: rec.imagePackage, metaVersion: rec.metaVersion, vmlinuz, modulesDir };
}

async function newestEntry(cacheDir: string): Promise<LiveKernel | undefined> {
  const dirs = readdirSync(cacheDir)
    .filter((d) => d.startsWith(`${META_PACKAGE}_`))
    .sort()
    .reverse();
  for (const d of dirs) {
    const hit = await readRecord(join(cacheDir, d));
    if (hit) return hit;
  }
  return undefined;
}

async function downloadAndExtract(
  cacheDir: string,
  wantedMeta: string | undefined,
  log: (line: string) => void,
): Promise<LiveKernel> {
  // Work in a sibling temp folder and rename at the end, so an interrupted
  // or concurrent fetch never leaves a half-extracted entry that looks valid.
  const work = mkdtempSync(join(cacheDir, "tmp-"));
  try {
    const started = performance.now();
    const metaSpec = wantedMeta ? `${META_PACKAGE}=${wantedMeta}` : META_PACKAGE;
    await runOk(["apt-get", "download", "-q", metaSpec], { cwd: work });
    const metaDeb = findDeb(work, META_PACKAGE);
    const metaVersion = (await runOk(["dpkg-deb", "-f", metaDeb, "Version"])).trim();
    const depends = (await runOk(["dpkg-deb", "-f", metaDeb, "Depends"])).trim();
    const image = /(linux-image-[^\s,(|]+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?/.exec(depends);
    if (!image?.[1]) throw new Error(`no linux-image dependency in "${depends}"`);
    const imagePackage = image[1];
    const imageSpec = image[2] ? `${imagePackage}=${image[2]}` : imagePackage;
    log(`downloading ${imageSpec}`);
    await runOk(["apt-get", "download", "-q", imageSpec], { cwd: work });
    const imageDeb = findDeb(work, imagePackage);

    const root = join(work, "root");
    await runOk(["dpkg-deb", "-x", imageDeb, root]);
    rmSync(metaDeb);
    rmSync(imageDeb);

    const kver = imagePackage.replace(/^linux-image-/, "").replace(/-unsigned$/, "");
    const vmlinuz = join("root", "boot", `vmlinuz-${kver}`);
    if (!existsSync(join(work, vmlinuz))) throw new Error(`${imagePackage} has no boot/vmlinuz-${kver}`);
    const modulesDir = await locateModules(root, kver);

    // The package ships no modules.dep (postinst makes it); the initramfs
    // builder needs it to pull in dependencies such as crc-itu-t for udf.
    await runOk(["depmod", "-b", root, kver]);

    const rec: CacheRecord = {
      kver,
      imagePackage,
      metaVersion,
      vmlinuz,
      modulesDir: modulesDir.slice(work.length + 1),
    };
    await Bun.write(join(work, RECORD), JSON.stringify(rec, null, 2));

    const final = entryDir(cacheDir, metaVersion);
    if (existsSync(join(final, RECORD))) {
      rmSync(work, { recursive: true, force: true }); // someone else won the race
    } else {
      rmSync(final, { recursive: true, force: true });
      renameSync(work, final);
    }
    log(`fetched ${imagePackage} (${metaVersion}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const done = await readRecord(final);
    if (!done) throw new Error(`cache entry ${final} is incomplete`);
    return done;
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

function findDeb(dir: string, pkg: string): string {
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download left no ${pkg}_*.deb in ${dir}`);
  return join(dir, deb);
}

/**
 * Debian 12 ships `lib/modules`, Debian 13 `usr/lib/modules`. depmod -b (kmod
 * 30 on the host) only looks under BASE/lib/modules, so bridge the newer
 * layout with a symlink instead of teaching every caller both layouts.
 */
async function locateModules(root: string, kver: string): Promise<string> {
  const classic = join(root, "lib", "modules", kver);
  if (existsSync(classic)) return classic;
  const merged = join(root, "usr", "lib", "modules", kver);
  if (!existsSync(merged)) throw new Error(`no lib/modules/${kver} in the image package`);
  mkdirSync(join(root, "lib"), { recursive: true });
  await runOk(["ln", "-s", "../usr/lib/modules", join(root, "lib", "modules")]);
  return classic;
}

if (import.meta.main) {
  const t = performance.now();
  const k = await fetchKernel();
  console.log(JSON.stringify({ ...k, ms: Math.round(performance.now() - t) }, null, 2));
}
