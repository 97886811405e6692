/**
 * kernelio: the only importer of bun:ffi. Direct libc calls for module unload,
 * atomic durable file writes, and /proc/sys.
 */
export { loadLibc, type Libc } from "./libc.ts";
export { archConstants } from "./arch.ts";
export { Errno, errnoName, SysError } from "./errno.ts";
export { SymlinkComponent } from "./walk.ts";
export { NotRegularFile, TooLarge, type FileKind } from "./refusals.ts";
export { writeFileAtomic, type AtomicWriteOptions } from "./atomic-write.ts";
export { symlinkAt, removeSymlinkAt } from "./symlinks.ts";
export { readFileAt, removeFileAt, removeDirAt, mkdirpAt, readLinkAt, listDirAt, type ReadResult, type Entry } from "./files.ts";
export { deleteModule, deleteModuleOutcome, type DeleteModuleOutcome } from "./modules.ts";
export { readSysctl, writeSysctl, sysctlComponents, NotSysctl } from "./procsys.ts";
export { fsTypeOfFd } from "./statfs.ts";
export { PROC_SUPER_MAGIC, BINFMTFS_MAGIC, TMPFS_MAGIC, sysctlFsRefusal } from "./fs-magic.ts";
export { flockFd, unlockFd } from "./lock.ts";
export { lstatAt, setAttrsAt, walkAt, ObjectChanged, TooManyEntries, type Meta, type WalkMeta } from "./metadata.ts";
export { remountBind, remountFlags } from "./mount.ts";
