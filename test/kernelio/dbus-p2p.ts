/**
 * A fake systemd on a peer-to-peer socket, as /run/systemd/private is: no
 * bus daemon, the server side of AUTH EXTERNAL, then messages whose sender
 * field is what systemd's own stamps there: "org.freedesktop.systemd1"
 * (src/core/dbus.c sd_bus_set_sender on every direct connection; seen on
 * Debian 12's systemd 252 in the booted-system harness), or none (older
 * systemd). The same FakeSystemd answers as on the bus.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeMessage, encodeMessage, frameLength, MessageType, type DBusValue, type Message } from "../../src/kernelio/dbus/mod.ts";
import { FakeSystemd } from "./dbus-fake-systemd.ts";

type Emit = (path: string, iface: string, member: string, signature?: string, body?: DBusValue[]) => void;

/** Serve one peer: the server side of AUTH EXTERNAL, then each METHOD_CALL to the fake made by MAKE, its reply written back. */
function servePeer(s: Socket, make: (emit: Emit) => FakeSystemd, sender: string | undefined): void {
  let serial = 0;
  let buf = Buffer.alloc(0);
  let stage: "auth" | "begin" | "open" = "auth";
  const send = (m: Omit<Message, "serial">) => s.write(encodeMessage({ ...m, ...(sender === undefined ? {} : { sender }), serial: ++serial }));
  const fake = make((path, iface, member, signature = "", body = []) => send({ type: MessageType.Signal, flags: 0, path, interface: iface, member, signature, body }));
  s.on("error", () => {});
  s.on("data", async (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (stage === "auth") {
      const eol = buf.indexOf("\r\n");
      if (eol < 0) return;
      if (buf[0] !== 0 || !/^AUTH EXTERNAL [0-9a-f]+$/.test(buf.toString("latin1", 1, eol))) {
        s.end("REJECTED EXTERNAL\r\n");
        return;
      }
      s.write("OK 00112233445566778899aabbccddeeff\r\n");
      buf = buf.subarray(eol + 2);
      stage = "begin";
    }
    if (stage === "begin") {
      if (buf.length < 7) return;
      if (buf.toString("latin1", 0, 7) !== "BEGIN\r\n") {
        s.destroy();
        return;
      }
      buf = buf.subarray(7);
      stage = "open";
    }
    for (;;) {
      const total = buf.length >= 16 ? frameLength(buf) : undefined;
      if (total === undefined || buf.length < total) return;
      const m = decodeMessage(new Uint8Array(buf.subarray(0, total)));
      buf = buf.subarray(total);
      if (m.type !== MessageType.MethodCall) continue;
      try {
        const r = await fake.handle(m);
        send({ type: MessageType.MethodReturn, flags: 0, replySerial: m.serial, signature: r.signature, body: r.body });
      } catch (e) {
        const err = e as { errorName?: string; text?: string; message: string };
        send({ type: MessageType.Error, flags: 0, replySerial: m.serial, errorName: err.errorName ?? "org.freedesktop.DBus.Error.Failed", signature: "s", body: [err.text ?? err.message] });
      }
    }
  });
}

/**
 * Start the peer-to-peer fake systemd on a temp socket; FAKES holds one fake per connected peer, for assertions.
 * SENDER: the sender field on everything it sends (default systemd's own, "org.freedesktop.systemd1"; null: none).
 */
export async function startP2PFakeSystemd(opts: { sender?: string | null } = {}): Promise<{ path: string; fakes: FakeSystemd[]; close(): void }> {
  const sender = opts.sender === null ? undefined : (opts.sender ?? "org.freedesktop.systemd1");
  const dir = mkdtempSync(join(tmpdir(), "bulwark-sd-private-"));
  const path = join(dir, "private");
  const fakes: FakeSystemd[] = [];
  const noSpoof = { emitSignal() {} };
  const server = createServer((s) =>
    servePeer(s, (emit) => {
      const f = new FakeSystemd({ emitSignal: emit }, noSpoof);
      fakes.push(f);
      return f;
    }, sender),
  );
  await new Promise<void>((r) => server.listen(path, r));
  return { path, fakes, close: () => { server.close(); rmSync(dir, { recursive: true, force: true }); } };
}
