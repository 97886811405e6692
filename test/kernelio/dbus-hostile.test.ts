/**
 * A hostile or broken peer: a fake server on a temp unix socket plays the
 * authentication and then sends crafted frames. Every case must end in a
 * clear error within a bounded time (the test's own timeout catches a hang).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DBusAuthError, DBusConnection, DBusProtocolError, DBusTimeout, marshalValues, parseSignature, Variant, Writer,
} from "../../src/kernelio/dbus/mod.ts";

const GUID = "0123456789abcdef0123456789abcdef";
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

/** A fake server: AUTH → ON_AUTH's answer; the first data after BEGIN → ON_CALL(socket). */
async function fakeServer(opts: { onAuth?: (s: Socket) => void; onCall?: (s: Socket) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "bulwark-dbus-fake-"));
  const path = join(dir, "sock");
  const server: Server = createServer((s) => {
    let stage = 0;
    let buf = "";
    s.on("error", () => {});
    s.on("data", (d) => {
      buf += d.toString("latin1");
      if (stage === 0 && buf.includes("\r\n")) {
        stage = 1;
        buf = buf.slice(buf.indexOf("\r\n") + 2);
        (opts.onAuth ?? ((x: Socket) => x.write(`OK ${GUID}\r\n`)))(s);
      }
      if (stage === 1 && buf.includes("BEGIN\r\n")) {
        const rest = buf.slice(buf.indexOf("BEGIN\r\n") + 7);
        if (rest.length > 0) {
          stage = 2;
          opts.onCall?.(s);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return path;
}

/** A METHOD_RETURN header for serial 1 with body signature SIG, followed by BODY (raw bytes). */
function reply(sig: string, body: Uint8Array | number[], patch?: (frame: Uint8Array) => void): Uint8Array {
  const w = new Writer(true);
  w.u8(0x6c); w.u8(2); w.u8(0); w.u8(1);
  w.u32(body.length);
  w.u32(9);
  const fields: [number, Variant][] = [[5, new Variant("u", 1)]];
  if (sig) fields.push([8, new Variant("g", sig)]);
  marshalValues(w, parseSignature("a(yv)", (x) => new Error(x)), [fields]);
  w.align(8);
  w.bytes(Uint8Array.from(body));
  const f = w.finish();
  patch?.(f);
  return f;
}

async function callAgainst(onCall: (s: Socket) => void, callTimeoutMs = 3_000): Promise<unknown> {
  const path = await fakeServer({ onCall });
  const c = await DBusConnection.connect(path, { noHello: true, timeoutMs: 5_000, callTimeoutMs });
  cleanups.push(() => c.close());
  return c.call({ path: "/", member: "Anything" }).then(() => "answered", (e: unknown) => e);
}

const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

describe("hostile frames", () => {
  const cases: [string, (s: Socket) => void, RegExp][] = [
    ["a frame declaring a 64 MiB body", (s) => s.write(reply("", [], (f) => new DataView(f.buffer).setUint32(4, 64 << 20, true))), /exceeds the 33554432-byte limit/],
    ["a frame declaring 4 GiB of header fields", (s) => s.write(reply("", [], (f) => new DataView(f.buffer).setUint32(12, 0xffffffff, true))), /exceeds the 33554432-byte limit/],
    ["an unknown endianness byte", (s) => s.write(reply("", [], (f) => { f[0] = 0x58; })), /endianness byte 0x58/],
    ["protocol version 2", (s) => s.write(reply("", [], (f) => { f[3] = 2; })), /protocol version 2/],
    ["a truncated frame, then the peer closes", (s) => s.end(reply("s", [3, 0, 0, 0, 0x66, 0x6f, 0x6f, 0]).subarray(0, 30)), /truncated message: the peer closed the connection 30 bytes into a frame/],
    ["a boolean that is 2", (s) => s.write(reply("b", le32(2))), /boolean at offset 0 is 2/],
    ["a string that is not UTF-8", (s) => s.write(reply("s", [2, 0, 0, 0, 0xff, 0xfe, 0])), /not valid UTF-8/],
    ["a string without its nul", (s) => s.write(reply("s", [1, 0, 0, 0, 0x41, 0x41])), /not nul-terminated/],
    ["a string longer than the body", (s) => s.write(reply("s", [100, 0, 0, 0, 0x41, 0])), /needs 100 bytes, only 2 left/],
    ["an array claiming more than the body", (s) => s.write(reply("ai", [0, 1, 0, 0, 1, 0, 0, 0])), /array body at offset 4 needs 256 bytes/],
    ["an array claiming more than 64 MiB", (s) => s.write(reply("ay", le32(0x7fffffff))), /claims 2147483647 bytes \(limit 67108864\)/],
    ["a misaligned uint32 (garbage where padding must be)", (s) => s.write(reply("yu", [1, 7, 7, 7, 5, 0, 0, 0])), /non-nul alignment padding at offset 1/],
    ["non-nul padding after the header", (s) => s.write(reply("y", [1], (f) => { f[31] = 0xff; })), /non-nul alignment padding at offset 31/],
    ["bytes after the last value", (s) => s.write(reply("y", [1, 2, 3])), /2 bytes after the body's last value/],
    ["an invalid signature in a variant", (s) => s.write(reply("v", [2, 0x7b, 0x73, 0])), /dict entry outside an array|unknown or misplaced/],
    ["a variant nested 70 deep", (s) => s.write(reply("v", [...Array(70).fill([1, 0x76, 0]).flat(), 1, 0x79, 0, 5])), /nesting deeper than 64/],
    ["an element that crosses its array's end", (s) => s.write(reply("au", [2, 0, 0, 0, 1, 0, 0, 0])), /array at offset 0: elements overrun its length 2/],
    ["a header field with the wrong type", (s) => s.write(reply("", [], (f) => { f[18] = 0x69; })), /header field 5 has type 'i', not 'u'/],
  ];
  for (const [name, send, why] of cases) {
    test(`dbus/AC-10: ${name} is refused with a DBusProtocolError naming the defect`, async () => {
      const e = await callAgainst(send);
      expect(e).toBeInstanceOf(DBusProtocolError);
      expect(String((e as Error).message)).toMatch(why);
    }, 30_000);
  }

  test("dbus/AC-10: a valid reply from the same fake server is accepted (the cases above fail for their defect only)", async () => {
    const path = await fakeServer({ onCall: (s) => s.write(reply("s", [3, 0, 0, 0, 0x66, 0x6f, 0x6f, 0])) });
    const c = await DBusConnection.connect(path, { noHello: true, timeoutMs: 5_000 });
    cleanups.push(() => c.close());
    expect((await c.call({ path: "/", member: "Anything" })).body).toEqual(["foo"]);
  }, 30_000);
});

describe("silent or refusing servers", () => {
  test("dbus/AC-11: a server that never answers AUTH fails the connect with DBusTimeout", async () => {
    const path = await fakeServer({ onAuth: () => {} });
    const e = await DBusConnection.connect(path, { timeoutMs: 500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DBusTimeout);
    expect((e as Error).message).toContain(`no answer to connecting to ${path} within 500 ms`);
  }, 30_000);

  test("dbus/AC-11: REJECTED and an endless line are DBusAuthErrors", async () => {
    const p1 = await fakeServer({ onAuth: (s) => s.write("REJECTED DBUS_COOKIE_SHA1\r\n") });
    const e1 = await DBusConnection.connect(p1, { timeoutMs: 5_000 }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(DBusAuthError);
    expect((e1 as Error).message).toContain("refused AUTH EXTERNAL");
    const p2 = await fakeServer({ onAuth: (s) => s.write("x".repeat(4096)) });
    const e2 = await DBusConnection.connect(p2, { timeoutMs: 5_000 }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(DBusAuthError);
    expect((e2 as Error).message).toContain("without a line end");
  }, 30_000);

  test("dbus/AC-11: a method call never answered, or answered by half a frame, times out", async () => {
    const e1 = await callAgainst(() => {}, 300);
    expect(e1).toBeInstanceOf(DBusTimeout);
    expect((e1 as Error).message).toContain("no answer to Anything within 300 ms");
    const e2 = await callAgainst((s) => s.write(reply("s", [3, 0, 0, 0, 0x66, 0x6f, 0x6f, 0]).subarray(0, 20)), 300);
    expect(e2).toBeInstanceOf(DBusTimeout);
  }, 30_000);

  test("dbus/AC-11: a missing socket is a clear DBusClosed naming it", async () => {
    const e = await DBusConnection.connect("/nonexistent/bulwark/bus", { timeoutMs: 2_000 }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/D-Bus: socket \/nonexistent\/bulwark\/bus: connection closed \(.*ENOENT/);
  }, 30_000);
});

describe("unsolicited calls", () => {
  test("dbus/AC-10: a method call from the peer with an unusable sender is answered or dropped, never crashes the connection", async () => {
    const { encodeMessage } = await import("../../src/kernelio/dbus/mod.ts");
    const path = await fakeServer({
      onCall: (s) => {
        s.write(encodeMessage({ type: 1, flags: 0, serial: 5, path: "/", member: "Ping", sender: "not a bus name!", signature: "", body: [] }));
        s.write(encodeMessage({ type: 1, flags: 0, serial: 6, path: "/", member: "Ping", sender: ":1.7", signature: "", body: [] }));
        setTimeout(() => s.write(reply("s", [2, 0, 0, 0, 0x6f, 0x6b, 0])), 50);
      },
    });
    const c = await DBusConnection.connect(path, { noHello: true, timeoutMs: 5_000, callTimeoutMs: 5_000 });
    cleanups.push(() => c.close());
    expect((await c.call({ path: "/", member: "Anything" })).body).toEqual(["ok"]);
    expect(c.isOpen).toBe(true);
  }, 30_000);
});
