/**
 * remediate's evidence wiring: `--signing-key FILE`, else the state key
 * (created on first use). The key is resolved before the run's first change:
 * a key Bulwark cannot create or read (unwritable or hostile keys directory,
 * a bad PEM) ends the command with exit 1 and nothing changed, so a committed
 * fix never lacks its record for that reason. Signing or storing a record
 * that fails later is reported as a warning; the transaction's outcome stands.
 */
import type { EvidenceSink, UndoEvidence } from "../engine/index.ts";
import type { Host } from "../host/host.ts";
import type { Store } from "../store/index.ts";
import { readHostIdentity } from "../evidence/host-identity.ts";
import { signingKeyFile, stateSigningKey } from "../evidence/keys.ts";
import { evidenceSink } from "../evidence/sink.ts";
import { readOs, shippedRuleLookup, stateLocationFor, type TargetFlags } from "./context.ts";
import { defineArgs } from "./options.ts";

/** --signing-key FILE for remediate. */
export const signingKeyArg = defineArgs({
  "signing-key": {
    type: "string",
    valueHint: "FILE",
    description:
      "Sign evidence records with this Ed25519 private key (PKCS#8 PEM, mode 0600; make one with: openssl genpkey -algorithm ed25519 -out FILE) instead of the key Bulwark creates in STATE_DIR/keys. Example: --signing-key /etc/bulwark/evidence.key",
  },
});

/** The sink that signs with the chosen key as HOST's target; throws (naming the path) before any change when the key is unusable. */
export async function evidenceSinkFor(store: Store, host: Host, flags: TargetFlags & { "signing-key"?: string }, osLabel: string): Promise<EvidenceSink> {
  const loaded = flags["signing-key"] ? await signingKeyFile(flags["signing-key"]) : await stateSigningKey(stateLocationFor(host, flags));
  return evidenceSink(store, loaded.key, await readHostIdentity(host, osLabel));
}

/**
 * The evidence of an undo after the fact (rollback, recover, the deadman): the same key and sink as
 * remediate, and the shipped rules to re-check with. Unlike remediate, an unusable key never stops the
 * command: undoing a change matters more than its record. The key is resolved at the first record (so a
 * command that undoes nothing creates no key), and a key problem becomes each undo's evidenceError, a warning.
 */
export async function undoEvidenceFor(store: Store, host: Host, flags: TargetFlags & { "signing-key"?: string }): Promise<UndoEvidence> {
  const os = await readOs(host);
  let sink: Promise<EvidenceSink> | null = null;
  return {
    sink: async (e) => (await (sink ??= evidenceSinkFor(store, host, flags, os.label)))(e),
    rules: shippedRuleLookup(host, os),
  };
}
