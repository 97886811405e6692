/**
 * The evidence sink a remediation run hands to the engine: build the record,
 * sign it, store it in the state database. The engine calls it after each
 * transaction's outcome is durable, and turns a throw into a note on that
 * transaction (engine/evidence-hook.ts).
 */
import type { EvidenceSink } from "../engine/types.ts";
import { addEvidence } from "../store/evidence.ts";
import type { Store } from "../store/store.ts";
import type { SigningKey } from "./ed25519.ts";
import type { HostIdentity } from "./host-identity.ts";
import { buildRecord, signRecord } from "./record.ts";

/** A sink signing with KEY as HOST and storing into STORE. */
export function evidenceSink(store: Store, key: SigningKey, host: HostIdentity): EvidenceSink {
  return async (e) => {
    const { text } = await signRecord(buildRecord(e, host), key);
    addEvidence(store, { txnId: e.txnId, runId: e.runId, keyId: key.keyId, record: text });
  };
}
