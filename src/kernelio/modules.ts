/**
 * delete_module(2): unload one module from the running kernel.
 *
 * The kernel matches the name exactly as it stores it (`_`, never `-`), so the
 * caller passes the kernel spelling. O_NONBLOCK makes a busy module fail at
 * once (EWOULDBLOCK) instead of waiting; O_TRUNC (forced removal) is never used.
 */
import { O_NONBLOCK } from "./arch.ts";
import { Errno, errnoName } from "./errno.ts";
import { cstr, type Libc } from "./libc.ts";

export type DeleteModuleOutcome =
  | { kind: "unloaded" }
  | { kind: "not-loaded" }
  | { kind: "in-use"; errno: string }
  | { kind: "not-permitted"; errno: string }
  | { kind: "unsupported"; errno: string }
  | { kind: "other"; errno: string };

/** Map a delete_module errno to its outcome. Exported so the mapping is tested for every errno. */
export function deleteModuleOutcome(errno: number): DeleteModuleOutcome {
  const name = errnoName(errno);
  switch (errno) {
    case Errno.ENOENT:
      return { kind: "not-loaded" };
    case Errno.EAGAIN: // == EWOULDBLOCK: has holders or a non-zero refcount
    case Errno.EBUSY: // initialising or going away
      return { kind: "in-use", errno: name };
    case Errno.EPERM: // no CAP_SYS_MODULE, or kernel.modules_disabled=1
      return { kind: "not-permitted", errno: name };
    case Errno.ENOSYS: // kernel built without module unloading
      return { kind: "unsupported", errno: name };
    default:
      return { kind: "other", errno: name };
  }
}

/** Unload KERNEL_NAME (already in `_` spelling). Never throws for kernel refusals. */
export function deleteModule(libc: Libc, kernelName: string): DeleteModuleOutcome {
  if (!/^[A-Za-z0-9_]{1,55}$/.test(kernelName)) {
    throw new Error(`deleteModule: invalid kernel module name ${JSON.stringify(kernelName)}`);
  }
  const rc = Number(libc.fn.syscall(libc.arch.SYS_delete_module, cstr(kernelName), O_NONBLOCK));
  if (rc === 0) return { kind: "unloaded" };
  return deleteModuleOutcome(libc.errno());
}
