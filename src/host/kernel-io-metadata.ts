/** Host errors for kernelio's metadata refusals (kept apart so the shell path never loads kernelio for them). */
import * as kio from "../kernelio/mod.ts";
import { HostIoError } from "./host.ts";

/** The Host error for a metadata refusal from kernelio (ECHANGED, E2BIG), or null for the common mapping. */
export function metadataError(op: string, path: string, e: unknown): HostIoError | null {
  if (e instanceof kio.ObjectChanged) return new HostIoError(op, path, "ECHANGED", e.message);
  if (e instanceof kio.TooManyEntries) return new HostIoError(op, path, "E2BIG", e.message);
  return null;
}
