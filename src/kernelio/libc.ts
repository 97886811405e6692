/**
 * The libc binding: the one place Bulwark calls `dlopen`. Works on glibc and
 * musl. errno is read through `__errno_location()` immediately after a failing
 * call (reading the thread-local `errno` symbol itself crashes under bun:ffi).
 */
import { CString, dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { archConstants, type ArchConstants } from "./arch.ts";

const { i32, i64, u32, u64, ptr, cstring } = FFIType;

const SYMBOLS = {
  openat: { args: [i32, ptr, i32, u32], returns: i32 },
  close: { args: [i32], returns: i32 },
  read: { args: [i32, ptr, u64], returns: i64 },
  write: { args: [i32, ptr, u64], returns: i64 },
  fsync: { args: [i32], returns: i32 },
  fchmod: { args: [i32, u32], returns: i32 },
  fchown: { args: [i32, u32, u32], returns: i32 },
  linkat: { args: [i32, ptr, i32, ptr, i32], returns: i32 },
  renameat: { args: [i32, ptr, i32, ptr], returns: i32 },
  unlinkat: { args: [i32, ptr, i32], returns: i32 },
  mkdirat: { args: [i32, ptr, u32], returns: i32 },
  readlinkat: { args: [i32, ptr, ptr, u64], returns: i64 },
  symlinkat: { args: [ptr, i32, ptr], returns: i32 },
  flock: { args: [i32, i32], returns: i32 },
  fstatfs: { args: [i32, ptr], returns: i32 },
  __errno_location: { args: [], returns: ptr },
  // mount(source, target, fstype, mountflags, data): used only to remount (kernelio/mount.ts).
  mount: { args: [ptr, ptr, ptr, u64, ptr], returns: i32 },
  // bun:ffi has no varargs: syscall is declared with the fixed arguments we pass.
  // This shape serves delete_module(name, flags).
  syscall: { args: [i64, ptr, i64], returns: i64 },
} as const;

// A second view of syscall, for renameat2(olddirfd, old, newdirfd, new, flags).
const SYSCALL5 = { syscall: { args: [i64, i64, ptr, i64, ptr, i64], returns: i64 } } as const;
const GLIBC_VERSION = { gnu_get_libc_version: { args: [], returns: cstring } } as const;

type Lib = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];
type Lib5 = ReturnType<typeof dlopen<typeof SYSCALL5>>["symbols"];

export interface Libc {
  readonly path: string;
  readonly flavor: "glibc" | "musl";
  /** e.g. "glibc 2.36"; musl does not report its version. */
  readonly version: string;
  readonly arch: ArchConstants;
  readonly fn: Lib;
  readonly syscall5: Lib5["syscall"];
  errno(): number;
}

/**
 * Candidate libc paths in probe order: glibc's soname, then musl's loader (which is its libc).
 * `BULWARK_LIBC=PATH` replaces the list with PATH alone — for tests that must prove the shell
 * path works where libc cannot be loaded (`BULWARK_LIBC=/nonexistent`), and for pinning a libc.
 */
function candidates(): { path: string; flavor: "glibc" | "musl" }[] {
  const only = process.env.BULWARK_LIBC;
  if (only) return [{ path: only, flavor: only.includes("musl") ? "musl" : "glibc" }];
  const m = process.arch === "arm64" ? "aarch64" : "x86_64";
  return [
    { path: "libc.so.6", flavor: "glibc" },
    { path: `/lib/ld-musl-${m}.so.1`, flavor: "musl" },
    { path: `/usr/lib/libc.musl-${m}.so.1`, flavor: "musl" },
    { path: `/lib/libc.musl-${m}.so.1`, flavor: "musl" },
  ];
}

let cached: Libc | { error: string } | undefined;

/**
 * Bind libc once. Returns `{error}` (never throws) when there is no usable
 * libc or the architecture is unknown, so callers can fall back to the shell path.
 */
export function loadLibc(): Libc | { error: string } {
  if (cached) return cached;
  const arch = archConstants();
  if (!arch) return (cached = { error: `unsupported architecture ${process.arch}` });
  const tried: string[] = [];
  for (const c of candidates()) {
    if (c.path.startsWith("/") && !existsSync(c.path)) {
      tried.push(`${c.path}: not found`);
      continue;
    }
    try {
      const lib = dlopen(c.path, SYMBOLS);
      const lib5 = dlopen(c.path, SYSCALL5);
      let version: string = c.flavor;
      if (c.flavor === "glibc") {
        try {
          const g = dlopen(c.path, GLIBC_VERSION);
          version = `glibc ${String(g.symbols.gnu_get_libc_version())}`;
        } catch {
          // a glibc-compatible shim without the symbol: keep the flavor name
        }
      }
      const errnoLoc = lib.symbols.__errno_location;
      return (cached = {
        path: c.path,
        flavor: c.flavor,
        version,
        arch,
        fn: lib.symbols,
        syscall5: lib5.symbols.syscall,
        errno: () => read.i32(errnoLoc() as Pointer, 0),
      });
    } catch (e) {
      tried.push(`${c.path}: ${(e as Error).message}`);
    }
  }
  return (cached = { error: `no usable libc (${tried.join("; ") || "none found"})` });
}

/** Recently encoded C strings: a run names the same root and directories thousands of times. */
const encoded = new Map<string, Buffer>();
/** Bounded so unique names (temp files, /proc/self/fd/N) cannot grow it without limit. */
const MAX_ENCODED = 256;

/**
 * NUL-terminated bytes for a C string argument. The same bytes may be handed
 * out again for the same string: every binding takes them as `const char *`
 * and nothing writes into them. Remembered, because each Buffer costs a
 * native allocation of its own (~0.7 KB resident, measured), and a
 * remediation run encodes the same root and directory names ~20 times a rule.
 */
export function cstr(s: string): Buffer {
  let b = encoded.get(s);
  if (b === undefined) {
    if (encoded.size >= MAX_ENCODED) encoded.clear();
    encoded.set(s, (b = Buffer.from(s + "\0")));
  }
  return b;
}

export { CString };
