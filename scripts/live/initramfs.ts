/**
 * Builds the initramfs for a live-kernel run: busybox for the shell and
 * coreutils, Debian's kmod for the module tools (the product shells out to
 * `modprobe`, and busybox's modprobe ignores modprobe.d `install` lines the
 * way kmod honours them), a trimmed `lib/modules/KVER` tree, the binary
 * under test as /bin/bulwark with its shared libraries, the caller's files,
 * and the /init from guest.ts.
 *
 * Compression defaults to none: QEMU copies an uncompressed initrd into
 * guest RAM for free, while inflating ~100 MB of Bun runtime in emulated
 * code costs seconds (see the timings in boot.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HELPERS_PATH, SCENARIO_PATH, helpersSh, initSh } from "./guest.ts";
import type { LiveKernel } from "./kernel.ts";
import { run, runOk } from "./exec.ts";
import { type Entry, fileSink, writeNewc } from "./newc.ts";

/** A guest file: a host path to copy, or inline content. */
export type GuestFile = string | { readonly content: string | Uint8Array; readonly mode?: number };

export type Compression = "none" | "gzip" | "zstd";

export interface InitramfsOptions {
  readonly kernel: LiveKernel;
  /** Compiled binary placed at /bin/bulwark (shared libraries follow it); none when absent. */
  readonly binary?: string;
  /** Shell script run by /init (with helpers from guest.ts sourced first); none when absent. */
  readonly scenarioScript?: GuestFile;
  /** Replaces the live-kernel /init (the booted-system harness switches root instead). */
  readonly init?: string;
  /** Guest absolute path → file. Executables: give mode 0o755 or a host file. */
  readonly extraFiles?: Readonly<Record<string, GuestFile>>;
  /**
   * Guest absolute path → host ELF, shipped with the shared libraries ldd
   * lists for it (e.g. procps `sysctl`, which busybox's applet is not).
   * Replaces a busybox applet link of the same name.
   */
  readonly executables?: Readonly<Record<string, string>>;
  /** Modules to ship (dependencies are added). Defaults to DEFAULT_MODULES. */
  readonly modules?: readonly string[];
  /** Output path; defaults to a fresh temp file. */
  readonly output?: string;
  readonly compression?: Compression;
}

/**
 * Modules CIS/STIG-style rules disable, plus `dummy` (a harmless network
 * module to load and unload). `cramfs` is absent: Debian 12 doesn't build it.
 */
export const DEFAULT_MODULES: readonly string[] = [
  "squashfs",
  "udf",
  "crc-itu-t",
  "dummy",
  "freevxfs",
  "jffs2",
  "hfs",
  "hfsplus",
  "usb-storage",
  "dccp",
  "sctp",
  "rds",
  "tipc",
];

/** kmod's multi-call names; busybox must not shadow them. */
const KMOD_TOOLS = ["modprobe", "insmod", "rmmod", "lsmod", "modinfo", "depmod"];

export interface Initramfs {
  readonly path: string;
  readonly bytes: number;
  readonly ms: number;
}

export async function buildInitramfs(opts: InitramfsOptions): Promise<Initramfs> {
  const started = performance.now();
  const compression = opts.compression ?? "none";
  const work = mkdtempSync(join(tmpdir(), "bulwark-initramfs-"));
  try {
    const entries = new Archive();
    for (const d of ["bin", "sbin", "lib", "lib64", "proc", "sys", "dev", "tmp", "run", "root", "etc", "var", "live"]) {
      entries.dir(d);
    }
    entries.dir("etc/modprobe.d");
    entries.dir("var/tmp");
    entries.dir("var/lib");
    // Merged-/usr spellings (/usr/bin/false in modprobe.d install lines,
    // /usr/lib/x86_64-linux-gnu in RUNPATHs) must resolve too.
    entries.dir("usr");
    entries.add({ kind: "symlink", path: "usr/bin", target: "../bin" });
    entries.add({ kind: "symlink", path: "usr/sbin", target: "../sbin" });
    entries.add({ kind: "symlink", path: "usr/lib", target: "../lib" });
    entries.add({ kind: "chardev", path: "dev/console", major: 5, minor: 1 });
    entries.add({ kind: "chardev", path: "dev/null", major: 1, minor: 3 });

    await addBusybox(entries);
    // busybox-static's ash runs its own applets before searching PATH
    // (FEATURE_SH_STANDALONE): under it, `modprobe`/`sysctl` in any sh script
    // (the scenario's, and the ShellHost's) would be busybox's, never kmod's or
    // procps'. /bin/sh is dash, as on Debian/Ubuntu, so PATH decides.
    await addExecutable(entries, await which("dash"), "bin/sh");
    await addExecutable(entries, await which("kmod"), "bin/kmod");
    for (const t of KMOD_TOOLS) entries.add({ kind: "symlink", path: `sbin/${t}`, target: "../bin/kmod" });
    if (opts.binary) await addExecutable(entries, opts.binary, "bin/bulwark");
    await addModules(entries, opts.kernel, opts.modules ?? DEFAULT_MODULES, work);

    entries.file("init", opts.init ?? initSh, 0o755);
    entries.file(HELPERS_PATH, helpersSh, 0o644);
    if (opts.scenarioScript) entries.guestFile(SCENARIO_PATH, opts.scenarioScript, 0o755);
    for (const [path, host] of Object.entries(opts.executables ?? {})) {
      await addExecutable(entries, realpathSync(host), path.replace(/^\/+/, ""));
    }
    for (const [path, f] of Object.entries(opts.extraFiles ?? {})) {
      entries.parents(path);
      entries.guestFile(path, f, 0o644);
    }

    const cpio = join(work, "initramfs.cpio");
    const sink = fileSink(cpio);
    await writeNewc(entries.list(), sink);
    sink.close();

    const output = opts.output ?? join(mkdtempSync(join(tmpdir(), "bulwark-live-")), "initramfs.img");
    mkdirSync(dirname(output), { recursive: true });
    await compress(cpio, output, compression);
    return { path: output, bytes: statSync(output).size, ms: Math.round(performance.now() - started) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Keeps entries unique and parents-first, as the kernel's unpacker needs. */
class Archive {
  private readonly entries = new Map<string, Entry>();

  add(e: Entry): void {
    const path = e.path.replace(/^\/+/, "");
    this.parents(path);
    // Later wins: lets a caller's extra file replace a default one.
    this.entries.delete(path);
    this.entries.set(path, { ...e, path });
  }

  dir(path: string): void {
    const p = path.replace(/^\/+/, "");
    if (!this.entries.has(p)) this.add({ kind: "dir", path: p });
  }

  file(path: string, content: string | Uint8Array, mode: number): void {
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    this.add({ kind: "file", path, data, mode });
  }

  guestFile(path: string, f: GuestFile, defaultMode: number): void {
    if (typeof f === "string") {
      const mode = statSync(f).mode & 0o7777;
      this.add({ kind: "hostFile", path, source: f, mode });
    } else {
      this.file(path, f.content, f.mode ?? defaultMode);
    }
  }

  parents(path: string): void {
    const parts = path.replace(/^\/+/, "").split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) this.dir(parts.slice(0, i).join("/"));
  }

  list(): Entry[] {
    return [...this.entries.values()];
  }
}

async function which(cmd: string): Promise<string> {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const p = join(dir, cmd);
    if (existsSync(p)) return realpathSync(p);
  }
  throw new Error(`${cmd} not found on the host (apt-get install ${cmd === "kmod" ? "kmod" : cmd})`);
}

async function addBusybox(a: Archive): Promise<void> {
  const bb = await which("busybox");
  // A dynamically linked busybox would drag in libs under names we don't
  // control; busybox-static is what the recipe and CI install.
  const ldd = await run(["ldd", bb]);
  if (ldd.code === 0 && ldd.stdout.includes("=>")) throw new Error(`${bb} is not static: install busybox-static`);
  a.add({ kind: "hostFile", path: "bin/busybox", source: bb, mode: 0o755 });
  const applets = (await runOk([bb, "--list-full"])).split("\n").filter(Boolean);
  for (const full of applets) {
    const name = full.split("/").pop() ?? "";
    if (!name || name === "busybox" || KMOD_TOOLS.includes(name)) continue;
    const dir = full.includes("sbin/") ? "sbin" : "bin";
    a.add({ kind: "symlink", path: `${dir}/${name}`, target: "/bin/busybox" });
  }
}

/** Adds an ELF plus every library ldd resolves for it, at the paths ldd names. */
async function addExecutable(a: Archive, source: string, guestPath: string): Promise<void> {
  a.add({ kind: "hostFile", path: guestPath, source, mode: 0o755 });
  for (const lib of await sharedLibraries(source)) {
    // Store the resolved file under the name the loader will look up, so no
    // SONAME symlink chains are needed in the guest.
    a.add({ kind: "hostFile", path: lib, source: realpathSync(lib), mode: 0o755 });
  }
}

async function sharedLibraries(elf: string): Promise<string[]> {
  const r = await run(["ldd", elf], { env: { LC_ALL: "C" } });
  if (r.code !== 0) {
    if (/not a dynamic executable/.test(r.stdout + r.stderr)) return [];
    throw new Error(`ldd ${elf} failed: ${r.stderr}`);
  }
  const libs: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (/not found/.test(line)) throw new Error(`ldd ${elf}: ${line.trim()}`);
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/**
 * Ships only the requested modules and their dependencies (the full tree is
 * ~400 MB), then lets the host's depmod index them so the guest's modprobe
 * resolves names, aliases and dependencies exactly as on a real system.
 */
async function addModules(a: Archive, k: LiveKernel, wanted: readonly string[], work: string): Promise<void> {
  const deps = parseModulesDep(readFileSync(join(k.modulesDir, "modules.dep"), "utf8"));
  const byName = new Map<string, string>();
  for (const rel of deps.keys()) byName.set(moduleName(rel), rel);

  const chosen = new Set<string>();
  const visit = (rel: string) => {
    if (chosen.has(rel)) return;
    chosen.add(rel);
    for (const d of deps.get(rel) ?? []) visit(d);
  };
  for (const w of wanted) {
    const rel = byName.get(w.replaceAll("-", "_"));
    if (!rel) throw new Error(`module ${w} is not in ${k.imagePackage} (built in, or not built at all)`);
    visit(rel);
  }

  const base = join(work, "modroot");
  const stageDir = join(base, "lib", "modules", k.kver);
  for (const rel of chosen) {
    mkdirSync(dirname(join(stageDir, rel)), { recursive: true });
    await runOk(["cp", join(k.modulesDir, rel), join(stageDir, rel)]);
  }
  // builtin lists let `modprobe X` succeed for built-in X, as on a real host.
  for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) {
    if (existsSync(join(k.modulesDir, f))) await runOk(["cp", join(k.modulesDir, f), join(stageDir, f)]);
  }
  await runOk(["depmod", "-b", base, k.kver]);

  const out = await runOk(["find", ".", "-mindepth", "1"], { cwd: stageDir });
  const paths = out.split("\n").filter(Boolean).sort();
  for (const p of paths) {
    const rel = p.replace(/^\.\//, "");
    const guest = `lib/modules/${k.kver}/${rel}`;
    const src = join(stageDir, rel);
    if (statSync(src).isDirectory()) a.dir(guest);
    else a.add({ kind: "file", path: guest, data: readFileSync(src), mode: 0o644 });
  }
}

function parseModulesDep(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    m.set(line.slice(0, i), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  return m;
}

/** `kernel/lib/crc-itu-t.ko.xz` → `crc_itu_t`, the form kmod compares. */
function moduleName(rel: string): string {
  const base = rel.split("/").pop() ?? rel;
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, "").replaceAll("-", "_");
}

async function compress(cpio: string, output: string, how: Compression): Promise<void> {
  switch (how) {
    case "none":
      await runOk(["mv", cpio, output]);
      return;
    case "gzip":
      // -1: the build must stay fast; guest-side inflate dominates anyway.
      await runOk(["sh", "-c", 'gzip -1 -c "$1" > "$2"', "sh", cpio, output]);
      return;
    case "zstd":
      await runOk(["zstd", "-q", "-f", "-T0", "-3", cpio, "-o", output]);
      return;
  }
}
