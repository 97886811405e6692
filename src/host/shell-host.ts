/**
 * ShellHost: the POSIX sh path. Every operation is one script run by an
 * Executor; every argument that reaches a script — path, mode, owner —
 * goes through `shellQuote`. File bytes come back base64-encoded so trailing
 * newlines and binary survive; writes go to a temp file in the same directory,
 * then `mv`.
 *
 * Changes are made from inside the target directory: the script enters it
 * with `cd -P`, checks its physical path against the one expected under the
 * root, acts by relative name (so a component swapped for a symlink later
 * cannot redirect it), and checks again afterwards; a directory that moved
 * meanwhile fails the operation (ECHANGED) with what it wrote taken back.
 */
import {
  CapabilityMissing, HostIoError, MAX_CONFIG_FILE_BYTES, SymlinkRefused, type AttributeChange, type PathStat, type WalkEntry, type WalkOptions, type Capability, type DirEntry, type ServiceName, type UnitStatus, type UnitVerb, type ServiceOutcome, type FileState, type Host, type LoadOutcome, type UnloadOutcome, type WriteOptions, type MountFlags, type Stamped, type StampedWrite,
} from "./host.ts";
import { persistentShell, shellQuote as q, type ExecResult, type Executor } from "./executor.ts";
import type { HeldLock } from "./file-lock.ts";
import { classifyModprobeRemove, modprobeLoad } from "./modprobe-command.ts";
import { kernelModuleName, parseProcModules } from "../params/module-name.ts";
import { mapUnder, pathComponents } from "./sysroot.ts";
import { runtimeCapabilities } from "./capabilities.ts";
import { reloadService, testServiceConfig } from "./services.ts";
import { changePackages, queryPackages } from "./packages.ts";
import type { PackageChange, PackageOutcome, PackageQuery, PackageReport } from "./packages-types.ts";
import { systemctlControl, systemctlStatus } from "./units.ts";
import { checkLinkTarget } from "./link-target.ts";
import { checkMode, checkWriteOptions } from "./write-options.ts";
import { errnoFromShellMessage } from "./shell-errors.ts";
import { checkAttributeChange, checkWalkOptions } from "./metadata-checks.ts";
import { EXIT_ABSENT, EXIT_OBJECT_CHANGED, STAT_FORMAT, findArgs, objectChangedError, parseStatLine, parseWalk, setAttributesLines } from "./shell-metadata.ts";
import { flagsToOptions } from "../params/mount.ts";
import { EXIT_NOT_SYSCTL, sysctlGuardRefusal, sysctlGuardScript, sysctlPath } from "./sysctl-guard.ts";

// Exit codes the scripts use to say what went wrong; stderr carries the detail.
const EXIT_CHANGED = 87; // stderr: logical directory, newline, where it is now
const EXIT_TOO_BIG = 88; // stderr: 1-based index among the files read, space, size
const EXIT_NOT_DIR = 89; // stderr: the logical component that is not a directory
const EXIT_SYMLINK = 90; // stderr: the logical component that is a symlink
const EXIT_NO_PARENT = 91;
const EXIT_NOT_REGULAR = 92; // stderr: kind, newline, logical path
const EXIT_LINK_EXISTS = 93; // symlink: the name is taken; removeSymlink: not a symlink
const EXIT_STALE = 84; // writeFileStamped: the file is not at the expected stamp; nothing written

/**
 * `stat -c` format of a change-detection stamp (see Host.statStamps): GNU stat
 * without -L never follows the last component, so this is an lstat. ctime in
 * ms at the 1 s resolution the cache must assume, then dev:ino:size:mtime:ctime.
 */
const STAMP_FORMAT = "%Z000:1000|%d:%i:%s:%y:%z";

/** A stamp equal to no other: the cache reads again, and the read reports any real error. */
const uniqueStamp = () => `unknown:${Math.random()}`;

/** The NUL-terminated records of BYTES, each decoded as UTF-8 (as readLink decodes one target); null when the last is unterminated. */
function nulTerminated(bytes: Buffer): string[] | null {
  const out: string[] = [];
  let start = 0;
  for (let end = bytes.indexOf(0); end >= 0; end = bytes.indexOf(0, start)) {
    out.push(bytes.subarray(start, end).toString("utf8"));
    start = end + 1;
  }
  return start === bytes.length ? out : null;
}

/** Thrown inside writeFileMaybeStamped only: the expected-stamp check failed. */
const STALE = new Error("stale");
/** readFilesOnce: a path classified as a file was gone when `stat` or `head` reached it; read the batch again. */
const VANISHED = new Error("vanished");

const SYNC = (v: string) => `sync -- ${v} 2>/dev/null || sync`;

/** Shell function: report the kind of a non-regular file ($1) named $2, and exit. */
const NOT_REGULAR_FN = `notreg() {
  if [ -d "$1" ]; then k=directory; elif [ -p "$1" ]; then k=FIFO; elif [ -S "$1" ]; then k=socket
  elif [ -c "$1" ]; then k='character device'; elif [ -b "$1" ]; then k='block device'; else k='unknown type'; fi
  printf '%s\\n%s' "$k" "$2" >&2; exit ${EXIT_NOT_REGULAR}
}`;

export class ShellHost implements Host {
  readonly path = "shell" as const;
  readonly offline: boolean;
  readonly capabilities: ReadonlySet<Capability>;
  /** The root's physical path, asked of the shell once (the executor may be remote). */
  private rootReal: Promise<string> | null = null;

  constructor(readonly root: string, private readonly exec: Executor = persistentShell()) {
    this.offline = root !== "/";
    this.capabilities = runtimeCapabilities(this.offline);
  }

  /**
   * Lines refusing, for each prefix of PARTS, a symlink (the first LINKS
   * prefixes) and anything but a directory where one exists (the first DIRS).
   */
  private guards(parts: string[], links = parts.length, dirs = parts.length - 1): string {
    const lines: string[] = [];
    for (let i = 1; i <= Math.max(links, dirs); i++) {
      const logical = "/" + parts.slice(0, i).join("/");
      const real = q(mapUnder(this.root, logical));
      if (i <= links) lines.push(`if [ -L ${real} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_SYMLINK}; fi`);
      if (i <= dirs) lines.push(`if [ -e ${real} ] && [ ! -d ${real} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_NOT_DIR}; fi`);
    }
    return lines.join("\n");
  }

  private physicalRoot(): Promise<string> {
    this.rootReal ??= this.exec.run(`cd -P -- ${q(this.root)} && pwd -P`).then((r) => {
      const out = Buffer.from(r.stdout).toString("utf8").replace(/\n$/, "");
      if (r.code !== 0 || !out.startsWith("/")) {
        this.rootReal = null;
        throw new HostIoError("open", this.root, errnoFromShellMessage(r.stderr) ?? `exit ${r.code}`, `cannot resolve the root: ${r.stderr}`);
      }
      return out;
    });
    return this.rootReal;
  }

  /** The physical path a logical directory must have: the root's own physical path plus its components. */
  private async expected(dirParts: readonly string[]): Promise<string> {
    const base = await this.physicalRoot();
    return dirParts.length === 0 ? base : (base === "/" ? "" : base) + "/" + dirParts.join("/");
  }

  /**
   * Script lines entering the directory of DIR_PARTS and proving it is the
   * expected one; IF_MISSING runs when it does not exist.
   */
  private async enter(dirParts: readonly string[], ifMissing: string): Promise<{ lines: string; verify: (undo?: string) => string }> {
    const logical = "/" + dirParts.join("/");
    const want = q(await this.expected(dirParts));
    const changed = `{ printf '%s\\n%s' ${q(logical)} "$PWD" >&2; exit ${EXIT_CHANGED}; }`;
    return {
      lines: `unset CDPATH
cd -P -- ${q(mapUnder(this.root, logical))} 2>/dev/null || ${ifMissing}
[ "$PWD" = ${want} ] || ${changed}`,
      verify: (undo = "") => `if ! { cd -P . 2>/dev/null && [ "$PWD" = ${want} ]; }; then ${undo ? undo + "; " : ""}${changed}; fi`,
    };
  }

  /** Run SCRIPT; a failure becomes the Host error its exit code stands for (SPECIAL first). */
  private async run(op: string, path: string, script: string, stdin?: Uint8Array, special?: (r: ExecResult) => Error | null): Promise<ExecResult> {
    const r = await this.exec.run("set -u\n" + script, stdin);
    if (r.code === 0) return r;
    const own = special?.(r);
    if (own) throw own;
    const onDisk = op === "write" || op === "remove" ? "; old bytes intact" : "";
    switch (r.code) {
      case EXIT_SYMLINK:
        throw new SymlinkRefused(path, r.stderr);
      case EXIT_NO_PARENT:
        throw new HostIoError(op, path, "ENOENT", `parent directory missing${onDisk}`);
      case EXIT_NOT_DIR:
        throw new HostIoError(op, path, "ENOTDIR", `${r.stderr} is not a directory${onDisk}`);
      case EXIT_NOT_REGULAR: {
        const [kind = "unknown type", logical = path] = r.stderr.split("\n");
        throw new HostIoError(op, logical, kind === "directory" ? "EISDIR" : "EFTYPE", `not a regular file (${kind}); not opened${onDisk}`);
      }
      case EXIT_CHANGED: {
        const [dir = path, now = "?"] = r.stderr.split("\n");
        throw new HostIoError(op, path, "ECHANGED", `directory ${dir} moved or was replaced during the operation (now at ${JSON.stringify(now)}); what this operation changed there was taken back where possible; nothing outside the root was touched`);
      }
    }
    const code = errnoFromShellMessage(r.stderr) ?? `exit ${r.code}`;
    throw new HostIoError(op, path, code, `${r.stderr || "shell command failed"}${onDisk}`);
  }

  async readFile(path: string): Promise<FileState> {
    return (await this.readFiles([path]))[0]!;
  }

  /**
   * One script for all paths, and a constant number of processes however many
   * files: the shell classifies each path with builtins ("A" absent / "F"
   * file), one `stat` reports mode, owner and size of every file — a size
   * over MAX_CONFIG_FILE_BYTES stops here, before any byte is read — and one
   * `head -q -c LIMIT | base64` carries their bytes (each file bounded even if
   * it grew after stat), split here by those sizes. A file whose stat size is
   * 0 — a live /proc or sysfs file has content all the same — is read on its
   * own to EOF, bounded at LIMIT + 1 bytes so an excess is refused (EFBIG).
   */
  async readFiles(paths: readonly string[]): Promise<FileState[]> {
    return (await this.readFilesStamped(paths)).map((x) => x.value);
  }

  /**
   * readFiles, each file's stamp taken by the same `stat` that reports its
   * mode, owner and size (before any byte is read); an absent path's is null.
   * One script and the same programs as readFiles: the stamps cost nothing more.
   */
  async readFilesStamped(paths: readonly string[]): Promise<Stamped<FileState>[]> {
    if (paths.length === 0) return [];
    for (let attempt = 0; ; attempt++) {
      const parsed = await this.readFilesOnce(paths);
      if (parsed) return parsed;
      // A file changed size between stat and head, or vanished after the shell saw it (a logind
      // session scope in /run/systemd/transient does): read again rather than split wrongly or fail.
      // The next classification reports a vanished file absent, as kernel-io's ENOENT on open does.
      if (attempt === 4) throw new HostIoError("read", paths.join(", "), "EAGAIN", "files kept changing while being read");
    }
  }

  private async readFilesOnce(paths: readonly string[]): Promise<Stamped<FileState>[] | null> {
    const checks = paths.map((p) => {
      const parts = pathComponents(p);
      const real = q(mapUnder(this.root, p));
      return `${this.guards(parts)}
if [ ! -e ${real} ]; then echo A; elif [ -f ${real} ]; then echo F; set -- "$@" ${real}; else notreg ${real} ${q(p)}; fi`;
    });
    const label = paths.length === 1 ? paths[0]! : `${paths.length} files`;
    const r = await this.run("read", label, `${NOT_REGULAR_FN}
set --
${checks.join("\n")}
echo --
if [ $# -gt 0 ]; then
  meta=$(stat -c '%a %u %g %s ${STAMP_FORMAT}' -- "$@") || exit 95
  printf '%s\\n' "$meta"
  # One line per file; its size is the fourth word (the stamp after it has spaces of its own).
  i=0; z=' '; ifs=$IFS; IFS='
'
  for line in $meta; do
    w=\${line#* * * }; w=\${w%% *}
    i=$((i + 1))
    if [ "$w" -gt ${MAX_CONFIG_FILE_BYTES} ]; then eval "f=\\\${$i}"; printf '%s\\n%s' "$w" "$f" >&2; exit ${EXIT_TOO_BIG}; fi
    [ "$w" -eq 0 ] && z="$z$i "
  done
  IFS=$ifs
  echo --
  # Size 0 in stat (/proc, sysfs, or truly empty): read each on its own to EOF, one byte over the limit to notice excess.
  i=0
  for f do
    i=$((i + 1))
    case "$z" in *" $i "*) head -c ${MAX_CONFIG_FILE_BYTES + 1} -- "$f" | base64 || exit 95; echo --;; esac
  done
  # The rest in one read, split by their stat sizes.
  n=$#; i=0
  for f do
    i=$((i + 1))
    case "$z" in *" $i "*) ;; *) set -- "$@" "$f";; esac
  done
  shift $n
  [ $# -eq 0 ] || head -q -c ${MAX_CONFIG_FILE_BYTES} -- "$@" | base64 || exit 95
fi`, undefined, (x) => (x.code === EXIT_TOO_BIG ? this.tooBig(paths, x.stderr) : vanished("stat", x.stderr) ? VANISHED : null)).catch((e) => {
      if (e === VANISHED) return null;
      throw e;
    });
    if (!r) return null;
    if (vanished("head", r.stderr)) return null;
    const failure = this.headFailure(paths, r.stderr);
    if (failure) throw failure;
    const text = Buffer.from(r.stdout).toString("latin1");
    // kinds -- stat lines -- one section per size-0 file (read to EOF) -- the rest, concatenated.
    const [kinds = "", metas = "", ...rest] = text.split("--\n");
    const kindLines = kinds.split("\n").filter(Boolean);
    const metaLines = metas.split("\n").filter(Boolean).map((l) => {
      const m = /^([0-7]+) (\d+) (\d+) (\d+) (\d+:1000\|.+)$/.exec(l);
      if (!m) throw new HostIoError("read", paths.join(", "), "EIO", `unexpected stat output ${JSON.stringify(l.slice(0, 120))}`);
      return { mode: m[1]!, uid: m[2]!, gid: m[3]!, size: Number(m[4]), stamp: m[5]! };
    });
    const sizes = metaLines.map((l) => l.size);
    const zeroCount = sizes.filter((n) => n === 0).length;
    if (kindLines.length !== paths.length || rest.length !== (metaLines.length ? zeroCount + 1 : 0)) return null;
    const toEof = rest.slice(0, zeroCount).map((b) => Buffer.from(b, "base64"));
    const all = Buffer.from(rest[zeroCount] ?? "", "base64");
    if (sizes.reduce((a, b) => a + b, 0) !== all.length) return null;
    let meta = 0;
    let off = 0;
    let eof = 0;
    return kindLines.map((k, i): Stamped<FileState> => {
      if (k === "A") return { value: { exists: false }, stamp: null };
      const { mode, uid, gid, size, stamp } = metaLines[meta++]!;
      let bytes: Uint8Array;
      if (size === 0) {
        const b = toEof[eof++]!;
        if (b.length > MAX_CONFIG_FILE_BYTES) {
          throw new HostIoError("read", paths[i]!, "EFBIG", `${paths[i]} is over the ${MAX_CONFIG_FILE_BYTES}-byte limit for a configuration file (it reports size 0, read to the limit); not used`);
        }
        bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
      } else {
        bytes = new Uint8Array(all.buffer, all.byteOffset + off, size);
        off += size;
      }
      return { value: { exists: true, bytes, mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid) }, stamp };
    });
  }

  /** EFBIG naming the file the script found too large (stderr: size, newline, real path). */
  private tooBig(paths: readonly string[], stderr: string): HostIoError {
    const nl = stderr.indexOf("\n");
    const size = stderr.slice(0, nl);
    const real = stderr.slice(nl + 1);
    const file = paths.find((p) => mapUnder(this.root, p) === real) ?? real;
    return new HostIoError("read", file, "EFBIG", `${file} is ${size} bytes, over the ${MAX_CONFIG_FILE_BYTES}-byte limit for a configuration file; not read`);
  }

  /** The true cause of a failed read (`head` reports it on stderr; the pipeline's status is base64's), or null. */
  private headFailure(paths: readonly string[], stderr: string): HostIoError | null {
    const line = stderr.split("\n").find((l) => l.startsWith("head: ") && errnoFromShellMessage(l));
    if (!line) return null;
    const file = paths.find((p) => line.includes(mapUnder(this.root, p))) ?? paths.join(", ");
    return new HostIoError("read", file, errnoFromShellMessage(line)!, line);
  }

  async writeFile(path: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<void> {
    await this.writeFileMaybeStamped(path, bytes, opts, null);
  }

  /**
   * writeFile in one script with its stamps: one `stat` of the directory and
   * the file (stamps, and the mode and owner a replacement keeps) before any
   * change, the expected-stamp check, the write, and one `stat` of the
   * directory after it.
   */
  writeFileStamped(path: string, bytes: Uint8Array, opts: WriteOptions = {}, expect: string | null | undefined): Promise<StampedWrite> {
    return this.writeFileMaybeStamped(path, bytes, opts, { expect });
  }

  private async writeFileMaybeStamped(path: string, bytes: Uint8Array, opts: WriteOptions, stamped: { expect: string | null | undefined } | null): Promise<StampedWrite> {
    const o = checkWriteOptions(path, opts);
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("write", path, "EISDIR", "cannot write the root");
    const name = q("./" + parts[parts.length - 1]!);
    const owner = o.uid !== undefined && o.gid !== undefined ? `${o.uid}:${o.gid}` : o.uid !== undefined ? `${o.uid}` : o.gid !== undefined ? `:${o.gid}` : null;
    const given = `${owner === null ? "" : `chown ${q(owner)} "$tmp" || exit 95\n  `}chmod ${q(o.mode.toString(8))} "$tmp" || exit 95`;
    const dir = await this.enter(parts.slice(0, -1), `exit ${EXIT_NO_PARENT}`);
    // The temp file: a fresh random name created exclusively with builtins (noclobber), mode 0600
    // like mktemp's, and its cleanup trap dropped once renamed: two programs fewer per write.
    const r = await this.run("write", path, `${NOT_REGULAR_FN}
${this.guards(parts)}
${dir.lines}
n=${name}
if [ -L "$n" ]; then printf '%s' ${q(path)} >&2; exit ${EXIT_SYMLINK}; fi
if [ -e "$n" ] && [ ! -f "$n" ]; then notreg "$n" ${q(path)}; fi
${stamped ? this.writeStampLines(stamped.expect) : ""}
umask 077
tmp=${q(`./.bulwark.${Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex")}`)}
set -C
{ true > "$tmp"; } 2>/dev/null || exit 93
set +C
{ [ -f "$tmp" ] && [ ! -L "$tmp" ]; } || exit 93
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp" || exit 94
${o.exact ? "if false; then" : stamped ? `if [ "$fs" != - ]; then` : `if [ -e "$n" ]; then`}
  ${stamped ? `meta=$fmeta` : `meta=$(stat -c '%a %u %g' -- "$n") || exit 95`}
  set -- $meta
  chown "$2:$3" "$tmp" && chmod "$1" "$tmp" || exit 95
else
  ${given}
fi
${SYNC('"$tmp"')}
${dir.verify()}
mv -f -- "$tmp" "$n" || exit 96
trap - EXIT
${dir.verify(`rm -f -- "$n"`)}
${SYNC(".")}${stamped ? `
printf '%s\\n' "$sb"; stat -c '${STAMP_FORMAT}' -- . 2>/dev/null || echo ERROR` : ""}`, bytes, (x) => (x.code === EXIT_STALE ? STALE : null)).catch((e) => {
      if (e === STALE) return null;
      throw e;
    });
    if (!r) return { written: false };
    const [before = "", after = ""] = Buffer.from(r.stdout).toString("utf8").split("\n");
    const stamp = (l: string) => (/^\d+:1000\|/.test(l) ? l : uniqueStamp());
    return { written: true, dirBefore: stamp(before), dirAfter: stamp(after) };
  }

  /**
   * Script lines (in the verified directory, "$n" checked) taking, with one
   * `stat`, the directory's stamp ($sb), the file's ($fs, "-" when absent) and
   * its "MODE UID GID " ($fmeta); then, when EXPECT is not undefined, leaving
   * with EXIT_STALE unless the file's stamp is EXPECT (null: absent).
   */
  private writeStampLines(expect: string | null | undefined): string {
    return `nl='
'
if [ -e "$n" ]; then st=$(stat -c '%a %u %g ${STAMP_FORMAT}' -- . "$n") || exit 95
else st=$(stat -c '%a %u %g ${STAMP_FORMAT}' -- .) || exit 95; st="$st$nl- - - -"; fi
sd=\${st%%"$nl"*}; sf=\${st#*"$nl"}
sb=\${sd#* * * }; fs=\${sf#* * * }; fmeta=\${sf%"$fs"}${expect === undefined ? "" : `
[ "$fs" = ${q(expect ?? "-")} ] || exit ${EXIT_STALE}`}`;
  }

  async removeFile(path: string): Promise<void> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("remove", path, "EISDIR", "cannot remove the root");
    const dir = await this.enter(parts.slice(0, -1), "exit 0");
    await this.run("remove", path, `${NOT_REGULAR_FN}
${this.guards(parts)}
${dir.lines}
n=${q("./" + parts[parts.length - 1]!)}
if [ -L "$n" ]; then printf '%s' ${q(path)} >&2; exit ${EXIT_SYMLINK}; fi
if [ -e "$n" ]; then
  [ -f "$n" ] || notreg "$n" ${q(path)}
  rm -f -- "$n" || exit 96
  ${dir.verify()}
  ${SYNC(".")}
fi`);
  }

  async symlink(path: string, target: string): Promise<void> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("symlink", path, "EEXIST", "the root exists");
    checkLinkTarget(path, target);
    const dir = await this.enter(parts.slice(0, -1), `exit ${EXIT_NO_PARENT}`);
    // Created here and the directory moved meanwhile: take the link back (verify's undo).
    await this.run("symlink", path, `${this.guards(parts, parts.length - 1)}
${dir.lines}
n=${q("./" + parts[parts.length - 1]!)}
if [ -L "$n" ] || [ -e "$n" ]; then exit ${EXIT_LINK_EXISTS}; fi
ln -s -- ${q(target)} "$n" || exit 96
${dir.verify(`rm -f -- "$n"`)}
${SYNC(".")}`, undefined, (r) => (r.code === EXIT_LINK_EXISTS ? new HostIoError("symlink", path, "EEXIST", "something is already there; nothing changed") : null));
  }

  async removeSymlink(path: string): Promise<void> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("unlink", path, "EFTYPE", "the root is not a symlink");
    const dir = await this.enter(parts.slice(0, -1), "exit 0");
    await this.run("unlink", path, `${this.guards(parts, parts.length - 1)}
${dir.lines}
n=${q("./" + parts[parts.length - 1]!)}
if [ -L "$n" ]; then
  rm -f -- "$n" || exit 96
  ${dir.verify()}
  ${SYNC(".")}
elif [ -e "$n" ]; then exit ${EXIT_LINK_EXISTS}; fi`, undefined, (r) => (r.code === EXIT_LINK_EXISTS ? new HostIoError("unlink", path, "EFTYPE", "not a symlink; nothing changed") : null));
  }

  async mkdirp(path: string, mode = 0o755): Promise<void> {
    const m = q(checkMode("mkdir", path, mode).toString(8));
    const parts = pathComponents(path);
    const top = await this.enter([], "exit 97");
    const steps: string[] = [top.lines];
    for (let i = 0; i < parts.length; i++) {
      const logical = "/" + parts.slice(0, i + 1).join("/");
      const parent = await this.enter(parts.slice(0, i), "exit 97");
      const self = await this.enter(parts.slice(0, i + 1), "exit 97");
      const c = q("./" + parts[i]!);
      // Created here and the parent moved meanwhile: take the new directory back.
      steps.push(`if [ -L ${c} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_SYMLINK}; fi
if [ -e ${c} ] && [ ! -d ${c} ]; then printf '%s' ${q(logical)} >&2; exit ${EXIT_NOT_DIR}; fi
if [ ! -d ${c} ]; then mkdir -m ${m} -- ${c} || exit 97; ${parent.verify(`rmdir -- ${c} 2>/dev/null`)}; fi
cd -P -- ${c} || exit 97
${self.verify()}`);
    }
    await this.run("mkdir", path, steps.join("\n"));
  }

  async removeDir(path: string): Promise<boolean> {
    const parts = pathComponents(path);
    if (parts.length === 0) throw new HostIoError("rmdir", path, "EBUSY", "cannot remove the root");
    const dir = await this.enter(parts.slice(0, -1), "{ echo GONE; exit 0; }");
    const r = await this.run("rmdir", path, `${this.guards(parts, parts.length, parts.length)}
${dir.lines}
n=${q("./" + parts[parts.length - 1]!)}
[ -e "$n" ] || { echo GONE; exit 0; }
if err=$(rmdir -- "$n" 2>&1); then
  ${dir.verify()}
  ${SYNC(".")}
  echo GONE
else
  case $err in *"not empty"*|*"File exists"*) echo NOTEMPTY ;; *) printf '%s' "$err" >&2; exit 98 ;; esac
fi`);
    return Buffer.from(r.stdout).toString("utf8").startsWith("GONE");
  }

  async listDir(path: string): Promise<DirEntry[] | null> {
    return (await this.listDirMaybeStamped(path, false)).value;
  }

  /** listDir, the directory's stamp taken first in the same script. */
  listDirStamped(path: string): Promise<Stamped<DirEntry[] | null>> {
    return this.listDirMaybeStamped(path, true);
  }

  private async listDirMaybeStamped(path: string, stamped: boolean): Promise<Stamped<DirEntry[] | null>> {
    const parts = pathComponents(path);
    // One NUL-terminated "TYPE NAME" record per entry: any byte but NUL survives, newlines included.
    const r = await this.run("list", path, `${stamped ? this.stampLine(path) : ""}
${this.guards(parts, parts.length, parts.length)}
d=${q(mapUnder(this.root, path))}
[ -d "$d" ] || { echo ABSENT; exit 0; }
for e in "$d"/* "$d"/.[!.]* "$d"/..?*; do
  if [ -L "$e" ]; then t=symlink; elif [ -d "$e" ]; then t=dir; elif [ -f "$e" ]; then t=file; elif [ -e "$e" ]; then t=other; else continue; fi
  printf '%s %s\\0' "$t" "\${e##*/}"
done`);
    const { stamp, rest } = this.splitStamp(r.stdout, stamped);
    const text = Buffer.from(rest).toString("utf8");
    if (text.startsWith("ABSENT")) return { value: null, stamp };
    const value = text.split("\0").filter(Boolean).map((rec) => {
      const sp = rec.indexOf(" ");
      return { type: rec.slice(0, sp) as DirEntry["type"], name: rec.slice(sp + 1) };
    }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { value, stamp };
  }

  /** Script line printing PATH's stamp as statStamps does ("-" absent, ERROR when stat failed), on its own line. */
  private stampLine(path: string): string {
    return `sf=${q(mapUnder(this.root, path))}; if [ -e "$sf" ] || [ -L "$sf" ]; then stat -c '${STAMP_FORMAT}' -- "$sf" 2>/dev/null || echo ERROR; else echo -; fi`;
  }

  /** The stamp line stampLine printed at the head of OUT (when STAMPED), and what follows it. */
  private splitStamp(out: Uint8Array, stamped: boolean): { stamp: string | null; rest: Uint8Array } {
    if (!stamped) return { stamp: uniqueStamp(), rest: out };
    const nl = out.indexOf(10);
    const line = Buffer.from(out.subarray(0, nl < 0 ? out.length : nl)).toString("utf8");
    const stamp = line === "-" ? null : /^\d+:1000\|/.test(line) ? line : uniqueStamp();
    return { stamp, rest: out.subarray(nl < 0 ? out.length : nl + 1) };
  }

  async readLink(path: string): Promise<string | null> {
    return (await this.readLinkMaybeStamped(path, false)).value;
  }

  /** readLink, the link's own stamp (lstat) taken first in the same script. */
  readLinkStamped(path: string): Promise<Stamped<string | null>> {
    return this.readLinkMaybeStamped(path, true);
  }

  private async readLinkMaybeStamped(path: string, stamped: boolean): Promise<Stamped<string | null>> {
    const parts = pathComponents(path);
    if (parts.length === 0) return { value: null, stamp: stamped ? (await this.statStamps([path]))[0]! : uniqueStamp() };
    const r = await this.run("readlink", path, `${stamped ? this.stampLine(path) : ""}
${this.guards(parts, parts.length - 1)}
f=${q(mapUnder(this.root, path))}
if [ -L "$f" ]; then readlink -- "$f" | base64; else echo NOTLINK; fi`);
    const { stamp, rest } = this.splitStamp(r.stdout, stamped);
    const text = Buffer.from(rest).toString("utf8");
    if (text.startsWith("NOTLINK")) return { value: null, stamp };
    return { value: Buffer.from(text, "base64").toString("utf8").replace(/\n$/, ""), stamp };
  }

  /**
   * Many readLinkStamped in one script and three programs however many
   * paths: builtins apply readLink's component checks to each path (a
   * refusal marks the path "X", left for readLink to report), one `stat`
   * stamps every present path, one `readlink -z | base64` reads every link
   * (NUL-terminated: a target holds any byte but NUL). A link that vanished
   * or changed kind between the checks and the read makes the count of
   * targets wrong: every link of the batch is then left for readLink.
   */
  async readLinksStamped(paths: readonly string[]): Promise<(Stamped<string | null> | null)[]> {
    if (paths.length === 0) return [];
    const lines = paths.map((p) => {
      const parts = pathComponents(p);
      if (parts.length === 0) return "echo X";
      const ok: string[] = [];
      for (let i = 1; i < parts.length; i++) {
        const real = q(mapUnder(this.root, "/" + parts.slice(0, i).join("/")));
        ok.push(`[ ! -L ${real} ] && { [ ! -e ${real} ] || [ -d ${real} ]; }`);
      }
      const real = q(mapUnder(this.root, p));
      return `if ${ok.length ? ok.join(" && ") : "true"}; then
  if [ -L ${real} ]; then echo L; set -- "$@" ${real}; l="$l${"$"}# "; elif [ -e ${real} ]; then echo N; set -- "$@" ${real}; else echo A; fi
else echo X; fi`;
    });
    const r = await this.exec.run(`set --; l=' '
${lines.join("\n")}
echo --
[ $# -eq 0 ] || stat -c '${STAMP_FORMAT}' -- "$@" 2>/dev/null || echo ERROR
echo --
# The links alone, in order, for one readlink.
n=$#; i=0
for f do
  i=$((i + 1))
  case "$l" in *" $i "*) set -- "$@" "$f";; esac
done
shift $n
[ $# -eq 0 ] || readlink -z -- "$@" | base64`);
    if (r.code !== 0) return paths.map(() => null);
    const [kinds = "", stats = "", blob = ""] = Buffer.from(r.stdout).toString("utf8").split("--\n");
    const k = kinds.split("\n").filter(Boolean);
    const st = stats.split("\n").filter(Boolean);
    const present = k.filter((x) => x === "L" || x === "N").length;
    if (k.length !== paths.length) return paths.map(() => null);
    const targets = nulTerminated(Buffer.from(blob, "base64"));
    const targetsOk = targets !== null && targets.length === k.filter((x) => x === "L").length;
    const stampsOk = st.length === present && st.every((x) => /^\d+:1000\|/.test(x));
    let si = 0;
    let li = 0;
    return k.map((x): Stamped<string | null> | null => {
      if (x === "X") return null;
      if (x === "A") return { value: null, stamp: null };
      const stamp = stampsOk ? st[si++]! : uniqueStamp();
      if (x === "N") return { value: null, stamp };
      return targetsOk ? { value: targets[li++]!, stamp } : null;
    });
  }

  /** lstat by absolute path after the component checks (a read: see the race note in host.ts). */
  async statPath(path: string): Promise<PathStat | null> {
    const parts = pathComponents(path);
    const links = Math.max(parts.length - 1, 0);
    const r = await this.run("stat", path, `${this.guards(parts, links, links)}
f=${q(mapUnder(this.root, path))}
# Gone between the test and stat (a session scope can be): absent, as lstat's ENOENT is on kernel-io.
if [ -e "$f" ] || [ -L "$f" ]; then stat -c '${STAT_FORMAT}' -- "$f" || { if [ -e "$f" ] || [ -L "$f" ]; then exit 95; fi; echo ABSENT; }; else echo ABSENT; fi`);
    const out = Buffer.from(r.stdout).toString("utf8");
    return out.startsWith("ABSENT") ? null : parseStatLine(path, out);
  }

  /** chown -h / chmod by relative name in the verified directory (race note: shell-metadata.ts). */
  async setAttributes(path: string, change: AttributeChange, expect?: { dev: number; ino: number }): Promise<void> {
    const c = checkAttributeChange(path, change);
    const parts = pathComponents(path);
    const dir = await this.enter(parts.slice(0, -1), `exit ${EXIT_ABSENT}`);
    await this.run("chmod", path, `${NOT_REGULAR_FN}
${this.guards(parts)}
${dir.lines}
n=${parts.length ? q("./" + parts[parts.length - 1]!) : "."}
if [ -L "$n" ]; then printf '%s' ${q(path)} >&2; exit ${EXIT_SYMLINK}; fi
[ -e "$n" ] || exit ${EXIT_ABSENT}
if [ ! -f "$n" ] && [ ! -d "$n" ]; then notreg "$n" ${q(path)}; fi
${setAttributesLines(q, path, c, expect)}
${dir.verify()}
${SYNC('"$n"')}`, undefined, (x) =>
      x.code === EXIT_OBJECT_CHANGED ? objectChangedError("chmod", path, x.stderr)
        : x.code === EXIT_ABSENT ? new HostIoError("chmod", path, "ENOENT", "no such file or directory; nothing changed") : null);
  }

  /** GNU find -printf inside the verified start directory; find never follows symlinks (-P). */
  async walk(dir: string, opts: WalkOptions): Promise<WalkEntry[] | null> {
    const o = checkWalkOptions(dir, opts);
    const parts = pathComponents(dir);
    const d = await this.enter(parts, "{ echo ABSENT; exit 0; }");
    const r = await this.run("walk", dir, `${this.guards(parts, parts.length, parts.length)}
${d.lines}
${findArgs(o)} || exit 95
${d.verify()}`);
    if (Buffer.from(r.stdout.subarray(0, 7)).toString() === "ABSENT\n") return null;
    return parseWalk(dir, r.stdout, o);
  }

  /**
   * One script, two processes at most: builtins mark each path absent ("-")
   * or present, one `stat` (lstat semantics) stamps every present one. The
   * stamp never decides content; it only tells the run cache to read again.
   */
  async statStamps(paths: readonly string[]): Promise<(string | null)[]> {
    if (paths.length === 0) return [];
    const r = await this.exec.run(`set --
${paths.map((p) => `f=${q(mapUnder(this.root, p))}; if [ -e "$f" ] || [ -L "$f" ]; then echo +; set -- "$@" "$f"; else echo -; fi`).join("\n")}
echo --
[ $# -eq 0 ] || stat -c '${STAMP_FORMAT}' -- "$@" 2>/dev/null || echo ERROR`);
    const [kinds = "", stats = ""] = Buffer.from(r.stdout).toString("utf8").split("--\n");
    const k = kinds.split("\n").filter(Boolean);
    const st = stats.split("\n").filter(Boolean);
    const unique = uniqueStamp;
    if (r.code !== 0 || k.length !== paths.length || st.includes("ERROR")) return paths.map(unique);
    let i = 0;
    return k.map((x) => (x === "-" ? null : (st[i++] ?? unique())));
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
    const file = this.sysctlFile("sysctl-read", key);
    const r = await this.exec.run(`${sysctlGuardScript(file)}\nsysctl -n -- ${q(key)}`);
    if (r.code !== 0) throw this.sysctlError("sysctl-read", key, file, r);
    return Buffer.from(r.stdout).toString("utf8").replace(/\n$/, "");
  }

  async writeSysctl(key: string, value: string): Promise<void> {
    this.need("sysctl");
    if (/[\n\0]/.test(value) || /[\n\0=]/.test(key)) throw new HostIoError("sysctl-write", key, "EINVAL", "newline, NUL or '=' in key/value");
    const file = this.sysctlFile("sysctl-write", key);
    const r = await this.exec.run(`${sysctlGuardScript(file)}\nsysctl -q -w -- ${q(`${key}=${value}`)}`);
    if (r.code !== 0) throw this.sysctlError("sysctl-write", key, file, r);
  }

  private sysctlFile(op: string, key: string): string {
    try {
      return sysctlPath(key);
    } catch (e) {
      throw new HostIoError(op, key, "EINVAL", (e as Error).message);
    }
  }

  private sysctlError(op: string, key: string, file: string, r: ExecResult): HostIoError {
    if (r.code === EXIT_NOT_SYSCTL) {
      return new HostIoError(op, key, "EFTYPE", `${file} (key ${key}) is not a sysctl file: ${sysctlGuardRefusal(r.stderr)}; nothing read or written`);
    }
    return new HostIoError(op, key, errnoFromShellMessage(r.stderr) ?? `exit ${r.code}`, r.stderr);
  }

  async testServiceConfig(service: ServiceName): Promise<ServiceOutcome> {
    this.need("services");
    return testServiceConfig(this.exec, this.root, service);
  }

  async reloadService(service: ServiceName): Promise<ServiceOutcome> {
    this.need("services");
    return reloadService(this.exec, this.root, service);
  }

  /** dpkg/apt or rpm/dnf through this Host's executor (packages.ts). */
  async queryPackages(query: PackageQuery): Promise<PackageReport> {
    this.need("packages");
    return queryPackages(this.exec, this.root, query);
  }

  /** As queryPackages: the root's own manager makes the change. */
  async changePackages(change: PackageChange): Promise<PackageOutcome> {
    this.need("packages");
    return changePackages(this.exec, this.root, change);
  }

  async unitControl(verb: UnitVerb, units: readonly string[]): Promise<ServiceOutcome> {
    this.need("units");
    return systemctlControl(this.exec, verb, units);
  }

  async unitStatus(units: readonly string[]): Promise<UnitStatus[]> {
    this.need("units");
    return systemctlStatus(this.exec, units);
  }

  async readMountInfo(): Promise<string> {
    this.need("mounts");
    const r = await this.exec.run("cat /proc/self/mountinfo");
    if (r.code !== 0) throw new HostIoError("read", "/proc/self/mountinfo", errnoFromShellMessage(r.stderr) ?? `exit ${r.code}`, r.stderr.trim());
    return Buffer.from(r.stdout).toString("latin1");
  }

  /**
   * `mount -o remount,bind,WORDS TARGET` with every flag spelled out (rw|ro,
   * suid|nosuid, …): mount(8) merges fstab's options for TARGET before ours,
   * and the explicit words win over them, so the result is FLAGS exactly.
   */
  async remount(target: string, flags: MountFlags): Promise<void> {
    this.need("mounts");
    if (!target.startsWith("/") || /[\0\n]/.test(target)) throw new HostIoError("remount", target, "EINVAL", "not an absolute path");
    const r = await this.exec.run(`mount -o ${q(["remount", "bind", ...flagsToOptions(flags)].join(","))} ${q(target)}`);
    if (r.code !== 0) throw new HostIoError("remount", target, errnoFromShellMessage(r.stderr) ?? `exit ${r.code}`, `mount -o remount refused: ${r.stderr.trim() || "no message"}; the mount keeps its flags`);
  }

  /** Held by the helper shell session that runs every later script (see persistentShell). */
  holdLock(fd: number, waitMs?: number): Promise<HeldLock | null> {
    return this.exec.holdLock(fd, waitMs);
  }

  private need(c: Capability): void {
    if (!this.capabilities.has(c)) throw new CapabilityMissing(c, this.path, this.offline ? "offline image mode" : "not available on this kernel");
  }
}

/**
 * True when PROGRAM's stderr says one of its operands did not exist: the
 * only failure a file that vanished after the shell's own test produces. Any
 * other error (EACCES, EIO) is not this and stays an error.
 */
function vanished(program: string, stderr: string): boolean {
  return stderr.split("\n").some((l) => l.startsWith(`${program}: `) && l.endsWith("No such file or directory"));
}
