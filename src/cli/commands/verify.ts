import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { createHost } from "../../host/index.ts";
import { locateState } from "../../store/index.ts";
import { importPublicPem } from "../../evidence/ed25519.ts";
import { statePublicKey } from "../../evidence/keys.ts";
import { evidenceItems, verifyEvidence, type VerifyAgainst } from "../../evidence/verify.ts";
import { checkedRoot } from "../context.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { defineArgs, formatFlag, outputArgs, stateArgs, type PathChoice } from "../options.ts";
import { makeOut } from "../render/output.ts";
import { writeOut } from "../ui.ts";

const verifyArgs = defineArgs({
  file: { type: "positional", required: false, valueHint: "FILE", description: "A record, a JSONL file of records (bulwark evidence), or a report embedding them as evidence: [...]. Example: run-7.evidence.jsonl" },
  "public-key": { type: "string", valueHint: "PEM", description: "The signer's Ed25519 public key (SPKI PEM, from --print-public-key on the signing host). Example: --public-key host1.pub" },
  "against-root": { type: "string", valueHint: "DIR", description: "Also compare each recorded file with the live file under DIR, and the record's machine id with DIR/etc/machine-id. Example: --against-root /" },
  "machine-id": { type: "string", valueHint: "ID", description: "Flag records made on any other host than the one with this machine id. Example: --machine-id 0123456789abcdef0123456789abcdef" },
  "print-public-key": { type: "boolean", description: "Print the public key of this target's own signing key (STATE_DIR/keys; with --root, the image's) and exit; creates nothing. Example: --print-public-key" },
  root: { type: "string", valueHint: "DIR", description: "With --print-public-key: the image whose state directory holds the key. Example: --root /mnt/image" },
});

/** `bulwark verify`: every record checked against a public key; each mismatch named by record and field. */
export const verifyCommand = defineCommand({
  meta: {
    name: "verify",
    description:
      "Check signed evidence records against a public key and name what does not match: which record, which field (signature, encoding, key, host, a file's digest against the live file with --against-root). Exit 0 when every record verifies, 2 when at least one does not, 1 on error.\n\n" +
      "Examples:\n" +
      "  bulwark verify --print-public-key > host1.pub       # on the signing host\n" +
      "  bulwark verify run-7.evidence.jsonl --public-key host1.pub\n" +
      "  bulwark verify run-7.evidence.jsonl --public-key host1.pub --against-root /\n" +
      "  bulwark verify report.json --public-key host1.pub --format json",
  },
  args: { ...verifyArgs, ...stateArgs, ...outputArgs },
  async run({ args }) {
    if (args["print-public-key"]) {
      const loc = locateState({ root: checkedRoot(args.root), stateDir: args["state-dir"] });
      const pub = await statePublicKey(loc);
      if (!pub) throw new CliError(`verify --print-public-key: no signing key in ${loc.dir}/keys yet (one is created by the first bulwark remediate that commits or rolls back a change)`);
      writeOut(pub.pem);
      return EXIT.ok;
    }
    if (!args.file) throw new UsageError("verify: name the FILE to verify (or use --print-public-key)");
    if (!args["public-key"]) throw new UsageError("verify: --public-key PEM is required: the signer's public key, from bulwark verify --print-public-key on the signing host");
    const read = (p: string, what: string) => {
      try {
        return readFileSync(p, "utf8");
      } catch (e) {
        throw new CliError(`verify: cannot read ${what} ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    };
    const key = await importPublicPem(read(String(args["public-key"]), "public key"), String(args["public-key"]));
    const items = evidenceItems(read(String(args.file), "evidence file"));
    if (items.length === 0) throw new CliError(`verify: ${args.file} holds no evidence record`);
    const against: VerifyAgainst = {};
    if (args["against-root"]) {
      const host = createHost({ path: "auto" as PathChoice, root: checkedRoot(String(args["against-root"])) });
      against.host = host;
      const mid = await host.readFile("/etc/machine-id").then((f) => (f.exists ? new TextDecoder().decode(f.bytes.subarray(0, 256)).split("\n")[0]!.trim() || null : null), () => null);
      against.machineId = mid;
    }
    if (args["machine-id"]) against.machineId = String(args["machine-id"]);
    const verdicts = await verifyEvidence(items, key, against);
    const out = makeOut(formatFlag(args.format), !!args.quiet);
    const bad = verdicts.filter((v) => !v.ok).length;
    if (out.format === "json") out.json({ file: args.file, records: verdicts, verified: verdicts.length - bad, failed: bad });
    else if (out.format === "jsonl") out.jsonl(verdicts, { summary: true, verified: verdicts.length - bad, failed: bad });
    else {
      for (const v of verdicts) {
        const label = `${v.where}${v.txn !== null ? ` txn ${v.txn}` : ""}${v.rule ? ` ${v.rule}` : ""}`;
        if (v.ok) {
          if (!out.quiet) out.line(`OK   ${label}`);
        } else for (const p of v.problems) out.line(`FAIL ${label}: ${p.field}: ${p.message}`);
      }
      if (!out.quiet) out.line(`${verdicts.length - bad} of ${verdicts.length} record${verdicts.length === 1 ? "" : "s"} verified${bad ? `, ${bad} did not` : ""}`);
    }
    return bad ? EXIT.failed : EXIT.ok;
  },
});
