/**
 * kernelio: the only importer of bun:ffi. Direct libc calls for module unload,
 * atomic durable file writes, and /proc/sys.
 */
export { loadLibc, type Libc } from "./libc.ts";
export { archConstants } from "./arch.ts";
export { Errno, errnoName, SysError } from "./errno.ts";
export { SymlinkComponent } from "./walk.ts";
export { writeFileAtomic, type AtomicWriteOptions } from "./atomic-write.ts";
export { readFileAt, removeFileAt, removeDirAt, mkdirpAt, readLinkAt, listDirAt, type ReadResult, type Entry } from "./files.ts";
export { deleteModule, deleteModuleOutcome, type DeleteModuleOutcome } from "./modules.ts";
export { readSysctl, writeSysctl, sysctlComponents } from "./procsys.ts";
export { flockFd, unlockFd } from "./lock.ts";
