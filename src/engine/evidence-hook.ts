/**
 * The one place the engine hands a finished transaction to the evidence sink.
 * It runs after the outcome is durable (commit or finishUndo), so whatever the
 * sink does — a full disk, an unreadable key — cannot change that outcome: a
 * committed fix stays committed, and the failure is reported on the
 * transaction as `evidenceError`.
 */
import type { Host } from "../host/host.ts";
import type { WrittenFile } from "../store/types.ts";
import { leftStates } from "./digest.ts";
import type { EvidenceSink, TxnEvidence } from "./types.ts";

/** The footprint's single files as they are now (never throws: an unreadable path is left out). */
export function filesBefore(host: Host, footprints: readonly (readonly string[])[]): Promise<WrittenFile[]> {
  return leftStates(host, footprints.flat().filter((p) => !p.endsWith("/")));
}

/** Give E to SINK; resolves to an error message when it failed, else undefined. Never throws. */
export async function emitEvidence(sink: EvidenceSink | undefined, e: () => TxnEvidence): Promise<string | undefined> {
  if (!sink) return undefined;
  try {
    await sink(e());
    return undefined;
  } catch (err) {
    return `evidence for transaction not recorded: ${(err as Error).message}`;
  }
}
