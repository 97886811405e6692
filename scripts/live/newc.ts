/**
 * Minimal writer for the cpio "newc" format the kernel unpacks as initramfs.
 *
 * Written here rather than driving `cpio -o` because the archive mixes host
 * files stored under other names (libraries resolved through symlinks, the
 * product binary as /bin/bulwark), generated text and a device node
 * (/dev/console, which the kernel needs before /init runs and which `cpio`
 * could only copy from a staging tree made with root's mknod). Streaming
 * straight from the sources also avoids copying the ~100 MB binary twice.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

export type Entry =
  | { readonly kind: "dir"; readonly path: string; readonly mode?: number }
  | { readonly kind: "file"; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: "hostFile"; readonly path: string; readonly source: string; readonly mode?: number }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string }
  | { readonly kind: "chardev"; readonly path: string; readonly major: number; readonly minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const encoder = new TextEncoder();

/** A sink so the same writer can feed a plain file or a compressor's stdin. */
export interface Sink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export function fileSink(path: string): Sink & { close(): void } {
  const fd = openSync(path, "w");
  return {
    write(chunk) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
    },
    close() {
      closeSync(fd);
    },
  };
}

export async function writeNewc(entries: readonly Entry[], sink: Sink): Promise<void> {
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    let mode: number;
    let data: Uint8Array = new Uint8Array(0);
    let rdev: readonly [number, number] = [0, 0];
    switch (e.kind) {
      case "dir":
        mode = S_IFDIR | (e.mode ?? 0o755);
        break;
      case "file":
        mode = S_IFREG | (e.mode ?? 0o644);
        data = e.data;
        break;
      case "hostFile":
        mode = S_IFREG | (e.mode ?? 0o755);
        data = readFileSync(e.source);
        break;
      case "symlink":
        mode = S_IFLNK | 0o777;
        data = encoder.encode(e.target);
        break;
      case "chardev":
        mode = S_IFCHR | 0o600;
        rdev = [e.major, e.minor];
        break;
    }
    await writeRecord(sink, name, mode, ino++, data, rdev);
  }
  await writeRecord(sink, "TRAILER!!!", 0, 0, new Uint8Array(0), [0, 0]);
}

async function writeRecord(
  sink: Sink,
  name: string,
  mode: number,
  ino: number,
  data: Uint8Array,
  rdev: readonly [number, number],
): Promise<void> {
  const nameBytes = encoder.encode(`${name}\0`);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const fields = [
    ino,
    mode,
    0, // uid: root, whatever owns the host file
    0, // gid
    mode & S_IFDIR ? 2 : 1,
    0, // mtime: fixed so identical inputs give identical archives
    data.length,
    0,
    0,
    rdev[0],
    rdev[1],
    nameBytes.length,
    0,
  ];
  const header = `070701${fields.map(hex).join("")}`;
  const headLen = header.length + nameBytes.length;
  const head = new Uint8Array(headLen + pad4(headLen));
  head.set(encoder.encode(header), 0);
  head.set(nameBytes, header.length);
  await sink.write(head);
  if (data.length > 0) {
    await sink.write(data);
    const p = pad4(data.length);
    if (p) await sink.write(new Uint8Array(p));
  }
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}
