/**
 * Gather a key/value file and the drop-ins its program also reads, through
 * the Host, in the program's reading order (config/keyvalue.ts decides the
 * order; this module only reads). Symlinks resolve inside the root
 * (fs-gather.ts); an absent file is null, an absent drop-in directory empty.
 */
import type { Host } from "../host/host.ts";
import { dropinsFor, readingOrder, type KvFile, type KvFormat } from "../config/keyvalue.ts";
import { gatherDirs, gatherFile } from "./fs-gather.ts";

/** The main file's text (null: absent) and every file the program reads, in order. */
export interface KvGathered {
  main: string | null;
  files: KvFile[];
}

/** Read PATH and its drop-ins (DROPIN_DIR: the rule's, when the format knows none) as format F's program would. */
export async function gatherKeyValue(host: Host, path: string, f: KvFormat, dropinDir?: string): Promise<KvGathered> {
  const main = await gatherFile(host, path);
  const dropins = dropinsFor(path, f, dropinDir);
  const dirs = dropins ? await gatherDirs(host, dropins.dirs, dropins.accept) : [];
  return { main, files: readingOrder(path, main, dropins, dirs) };
}
