/**
 * ShellHost: the POSIX sh path. Every operation is one script run by an
 * Executor; every operator-derived string reaches the script through
 * `shellQuote`. File bytes come back base64-encoded so trailing newlines and
 * binary survive; writes go to a temp file in the same directory, then `mv`.
 */
import { CapabilityMissing, HostIoError, SymlinkRefused, type Capability, type DirEntry, type FileState, type Host, type LoadOutcome, type UnloadOutcome, type WriteOptions } from "./host.ts";
import { persistentShell, shellQuote as q, type ExecResult, type Executor } from "./executor.ts";
import type { HeldLock } from "./file-lock.ts";
import { classifyModprobeRemove, modprobeLoad } from "./modprobe-command.ts";
import { kernelModuleName, parseProcModules } from "./module-name.ts";
import { mapUnder, pathComponents } from "./sysroot.ts";
import { runtimeCapabilities } from "./capabilities.ts";

// Exit codes the scripts use to say what went wrong; anything else is an IO error.
const EXIT_SYMLINK = 90;
const EXIT_NO_PARENT = 91;
const EXIT_NOT_REGULAR = 92;

const SYNC = (v: string) => `sync -- "${v}" 2>/dev/null || sync`;

export class ShellHost implements Host {
  readonly path = "shell" as const;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;

  constructor(readonly root: string, private readonly exec: Executor = persistentShell()) {
    this.offline = root !== "/";
    this.capabilities = runtimeCapabilities(this.offline);
  }

  /** Lines refusing a symlink at each of the first N prefixes of PARTS. */
  private symlinkGuards(parts: string[], n = parts.length): string {
    const lines: string[] = [];
    for (let i = 1; i <= n; i++) {
      const logical = "/" + parts.slice(0, i).join("/");
      lines.push(`if [ -L ${q(mapUnder(this.root, logical))} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_SYMLINK}; fi`);
    }
    return lines.join("\n");
  }

  private async run(op: string, path: string, script: string, stdin?: Uint8Array): Promise<ExecResult> {
    const r = await this.exec.run("set -u\n" + script, stdin);
    if (r.code === 0) return r;
    const onDisk = op === "write" || op === "remove" ? "; old bytes intact" : "";
    if (r.code === EXIT_SYMLINK) throw new SymlinkRefused(path, r.stderr);
    if (r.code === EXIT_NO_PARENT) throw new HostIoError(op, path, "ENOENT", `parent directory missing${onDisk}`);
    if (r.code === EXIT_NOT_REGULAR) throw new HostIoError(op, path, "EISDIR", `not a regular file${onDisk}`);
    throw new HostIoError(op, path, `exit ${r.code}`, `${r.stderr || "shell command failed"}${onDisk}`);
  }

  async readFile(path: string): Promise<FileState> {
    return (await this.readFiles([path]))[0]!;
  }

  /**
   * One script for all paths, and a constant number of processes however many
   * files: the shell classifies each path with builtins ("A" absent / "F"
   * file), one `stat` reports mode, owner and size of every file, and one
   * `cat | base64` carries their bytes, split here by those sizes.
   */
  async readFiles(paths: readonly string[]): Promise<FileState[]> {
    if (paths.length === 0) return [];
    for (let attempt = 0; ; attempt++) {
      const parsed = await this.readFilesOnce(paths);
      if (parsed) return parsed;
      // A file changed size between stat and cat: read again rather than split wrongly.
      if (attempt === 2) throw new HostIoError("read", paths.join(", "), "EAGAIN", "files kept changing while being read");
    }
  }

  private async readFilesOnce(paths: readonly string[]): Promise<FileState[] | null> {
    const guards = paths.map((p) => this.symlinkGuards(pathComponents(p))).join("\n");
    const list = paths.map((p) => q(mapUnder(this.root, p))).join(" ");
    const r = await this.run("read", paths.length === 1 ? paths[0]! : `${paths.length} files`, `${guards}
set --
for f in ${list}; do
  if [ ! -e "$f" ]; then echo A
  elif [ -f "$f" ]; then echo F; set -- "$@" "$f"
  else printf '%s' "$f" >&2; exit ${EXIT_NOT_REGULAR}; fi
done
echo --
if [ $# -gt 0 ]; then stat -c '%a %u %g %s' -- "$@" || exit 95; echo --; cat -- "$@" | base64 || exit 95; fi`);
    const text = Buffer.from(r.stdout).toString("latin1");
    const [kinds = "", metas = "", b64 = ""] = text.split("--\n");
    const kindLines = kinds.split("\n").filter(Boolean);
    const metaLines = metas.split("\n").filter(Boolean);
    const all = Buffer.from(b64, "base64");
    const sizes = metaLines.map((l) => Number(l.split(" ")[3]));
    if (kindLines.length !== paths.length || sizes.reduce((a, b) => a + b, 0) !== all.length) return null;
    let meta = 0;
    let off = 0;
    return kindLines.map((k): FileState => {
      if (k === "A") return { exists: false };
      const [mode, uid, gid] = metaLines[meta++]!.split(" ");
      const size = sizes[meta - 1]!;
      const bytes = new Uint8Array(all.subarray(off, off + size));
      off += size;
      return { exists: true, bytes, mode: parseInt(mode!, 8), uid: Number(uid), gid: Number(gid) };
    });
  }

  async writeFile(path: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<void> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("write", path, "EISDIR", "cannot write the root");
    const file = mapUnder(this.root, path);
    const dir = file.slice(0, file.lastIndexOf("/")) || "/";
    const newOwner = opts.uid !== undefined || opts.gid !== undefined
      ? `chown ${opts.uid ?? ""}:${opts.gid ?? ""} "$tmp" || exit 95\n` : "";
    const mode = (opts.mode ?? 0o644).toString(8);
    await this.run("write", path, `${this.symlinkGuards(parts)}
d=${q(dir)}; f=${q(file)}
[ -d "$d" ] || exit ${EXIT_NO_PARENT}
if [ -e "$f" ] && [ ! -f "$f" ]; then exit ${EXIT_NOT_REGULAR}; fi
tmp=$(mktemp "$d/.bulwark.XXXXXX") || exit 93
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" || exit 94
if [ -e "$f" ]; then
  set -- $(stat -c '%a %u %g' "$f") || exit 95
  chown "$2:$3" "$tmp" && chmod "$1" "$tmp" || exit 95
else
  ${newOwner}chmod ${mode} "$tmp" || exit 95
fi
${SYNC("$tmp")}
mv -f "$tmp" "$f" || exit 96
${SYNC("$d")}`, bytes);
  }

  async removeFile(path: string): Promise<void> {
    const parts = pathComponents(path);
    const file = mapUnder(this.root, path);
    await this.run("remove", path, `${this.symlinkGuards(parts)}
f=${q(file)}
if [ -e "$f" ]; then
  [ -f "$f" ] || exit ${EXIT_NOT_REGULAR}
  rm -f -- "$f" || exit 96
  ${SYNC(file.slice(0, file.lastIndexOf("/")) || "/")}
fi`);
  }

  async mkdirp(path: string, mode = 0o755): Promise<void> {
    const parts = pathComponents(path);
    const steps = parts.map((_, i) => {
      const logical = "/" + parts.slice(0, i + 1).join("/");
      const real = q(mapUnder(this.root, logical));
      return `if [ -L ${real} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_SYMLINK}; fi
if [ ! -d ${real} ]; then mkdir -m ${mode.toString(8)} ${real} || exit 97; fi`;
    });
    await this.run("mkdir", path, steps.join("\n"));
  }

  async removeDir(path: string): Promise<boolean> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("rmdir", path, "EBUSY", "cannot remove the root");
    const dir = mapUnder(this.root, path);
    const r = await this.run("rmdir", path, `${this.symlinkGuards(parts)}
d=${q(dir)}
[ -e "$d" ] || { echo GONE; exit 0; }
[ -d "$d" ] || exit ${EXIT_NOT_REGULAR}
if rmdir -- "$d" 2>/dev/null; then ${SYNC(dir.slice(0, dir.lastIndexOf("/")) || "/")}; echo GONE; elif [ -d "$d" ]; then echo NOTEMPTY; else exit 98; fi`);
    return Buffer.from(r.stdout).toString("utf8").startsWith("GONE");
  }

  async listDir(path: string): Promise<DirEntry[] | null> {
    const parts = pathComponents(path);
    // One NUL-terminated "TYPE NAME" record per entry: any byte but NUL survives, newlines included.
    const r = await this.run("list", path, `${this.symlinkGuards(parts)}
d=${q(mapUnder(this.root, path))}
[ -d "$d" ] || { echo ABSENT; exit 0; }
for e in "$d"/* "$d"/.[!.]* "$d"/..?*; do
  if [ -L "$e" ]; then t=symlink; elif [ -d "$e" ]; then t=dir; elif [ -f "$e" ]; then t=file; elif [ -e "$e" ]; then t=other; else continue; fi
  printf '%s %s\\0' "$t" "\${e##*/}"
done`);
    const text = Buffer.from(r.stdout).toString("utf8");
    if (text.startsWith("ABSENT")) return null;
    return text.split("\0").filter(Boolean).map((rec) => {
      const sp = rec.indexOf(" ");
      return { type: rec.slice(0, sp) as DirEntry["type"], name: rec.slice(sp + 1) };
    }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async readLink(path: string): Promise<string | null> {
    const parts = pathComponents(path);
    if (parts.length === 0) return null;
    const r = await this.run("readlink", path, `${this.symlinkGuards(parts, parts.length - 1)}
f=${q(mapUnder(this.root, path))}
if [ -L "$f" ]; then readlink -- "$f" | base64; else echo NOTLINK; fi`);
    const text = Buffer.from(r.stdout).toString("utf8");
    if (text.startsWith("NOTLINK")) return null;
    return Buffer.from(text, "base64").toString("utf8").replace(/\n$/, "");
  }

  async loadedModules(): Promise<Set<string> | null> {
    if (!this.capabilities.has("modules")) return null;
    const r = await this.exec.run("cat /proc/modules");
    return r.code === 0 ? parseProcModules(Buffer.from(r.stdout).toString("utf8")) : null;
  }

  async unloadModule(name: string): Promise<UnloadOutcome> {
    const kname = kernelModuleName(name);
    if (this.offline) return { kind: "skipped", detail: "offline image mode (--root): no running kernel" };
    if (!this.capabilities.has("modules")) return { kind: "unsupported", detail: "kernel without module support (no /proc/modules)" };
    // modprobe -r of a module that is not loaded is an error to kmod; ask /proc/modules first.
    if (!(await this.loadedModules())?.has(kname)) return { kind: "not-loaded" };
    const r = await this.exec.run(`modprobe -r -- ${q(kname)}`);
    return classifyModprobeRemove(r.code, r.stderr);
  }

  async loadModule(name: string): Promise<LoadOutcome> {
    if (!this.capabilities.has("modules")) throw new CapabilityMissing("modules", this.path, this.offline ? "offline image mode" : "no /proc/modules");
    return modprobeLoad(this.exec, kernelModuleName(name));
  }

  async readSysctl(key: string): Promise<string> {
    this.need("sysctl");
    const r = await this.exec.run(`sysctl -n -- ${q(key)}`);
    if (r.code !== 0) throw new HostIoError("sysctl-read", key, `exit ${r.code}`, r.stderr);
    return Buffer.from(r.stdout).toString("utf8").replace(/\n$/, "");
  }

  async writeSysctl(key: string, value: string): Promise<void> {
    this.need("sysctl");
    if (/[\n\0]/.test(value) || /[\n\0=]/.test(key)) throw new HostIoError("sysctl-write", key, "EINVAL", "newline, NUL or '=' in key/value");
    const r = await this.exec.run(`sysctl -q -w -- ${q(`${key}=${value}`)}`);
    if (r.code !== 0) throw new HostIoError("sysctl-write", key, `exit ${r.code}`, r.stderr);
  }

  /** Held by the helper shell session that runs every later script (see persistentShell). */
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return this.exec.holdLock(fd, waitMs);
  }

  private need(c: Capability): void {
    if (!this.capabilities.has(c)) throw new CapabilityMissing(c, this.path, this.offline ? "offline image mode" : "not available on this kernel");
  }
}
