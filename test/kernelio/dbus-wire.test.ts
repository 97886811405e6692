/** D-Bus wire format: the specification's own examples, round trips, and what must be refused. */
import { describe, expect, test } from "bun:test";
import {
  DBusMarshalError, DBusProtocolError, decodeMessage, encodeMessage, frameLength, marshalValues, MessageType, parseSignature,
  Reader, signatureOf, unmarshalValues, Variant, Writer, type DBusValue,
} from "../../src/kernelio/dbus/mod.ts";
import { randomBody, rng } from "./dbus-random.ts";

const fail = (why: string) => new DBusProtocolError(why);
const mfail = (why: string) => new DBusMarshalError(why);

function marshal(sig: string, values: DBusValue[], littleEndian = true): Uint8Array {
  const w = new Writer(littleEndian);
  marshalValues(w, parseSignature(sig, mfail), values);
  return w.finish();
}

function unmarshal(sig: string, bytes: Uint8Array, littleEndian = true): DBusValue[] {
  const r = new Reader(bytes, littleEndian, fail);
  const out = unmarshalValues(r, parseSignature(sig, fail), fail);
  expect(r.remaining).toBe(0);
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("golden bytes", () => {
  test("dbus/AC-01: strings 'foo', '+', 'bar' little-endian are the specification's example bytes", () => {
    const want = "03000000666f6f00" + "010000002b00" + "0000" + "03000000626172" + "00";
    expect(hex(marshal("sss", ["foo", "+", "bar"]))).toBe(want);
    expect(unmarshal("sss", Buffer.from(want, "hex"))).toEqual(["foo", "+", "bar"]);
  });

  test("dbus/AC-01: an array holding only the int64 5, big-endian, is the specification's example bytes", () => {
    const want = "00000008" + "00000000" + "0000000000000005";
    expect(hex(marshal("ax", [[5n]], false))).toBe(want);
    expect(unmarshal("ax", Buffer.from(want, "hex"), false)).toEqual([[5n]]);
  });

  test("dbus/AC-01: a Hello call has the header layout of the specification (yyyyuua(yv), padded to 8)", () => {
    const m = encodeMessage({
      type: MessageType.MethodCall, flags: 0, serial: 1, destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello", signature: "", body: [],
    });
    expect([...m.subarray(0, 4)]).toEqual([0x6c, 1, 0, 1]);
    expect(new DataView(m.buffer).getUint32(4, true)).toBe(0); // no body
    expect(new DataView(m.buffer).getUint32(8, true)).toBe(1); // serial
    expect(m.length % 8).toBe(0);
    // field 1 (PATH) first: code 1, variant signature "o", then the string aligned to 4.
    expect(hex(m.subarray(16, 24))).toBe("01016f0015000000");
    const back = decodeMessage(m);
    expect(back).toMatchObject({ type: 1, serial: 1, member: "Hello", path: "/org/freedesktop/DBus", destination: "org.freedesktop.DBus" });
  });
});

describe("round trips", () => {
  test("dbus/AC-02: every basic type at its limits round-trips in both byte orders", () => {
    const sig = "ybnqiuxtdsog";
    const lo: DBusValue[] = [0, false, -32768, 0, -2147483648, 0, -(1n << 63n), 0n, -Infinity, "", "/", ""];
    const hi: DBusValue[] = [255, true, 32767, 65535, 2147483647, 4294967295, (1n << 63n) - 1n, (1n << 64n) - 1n, Number.MAX_VALUE, "日本語 🐧", "/a/b_c/0", "a{sv}(ii)"];
    for (const le of [true, false]) {
      expect(unmarshal(sig, marshal(sig, lo, le), le)).toEqual(lo);
      expect(unmarshal(sig, marshal(sig, hi, le), le)).toEqual(hi);
    }
  });

  test("dbus/AC-02: structs align to 8, arrays pad to their element even when empty, variants carry their signature", () => {
    // y then (i): the struct starts at 8 after 7 bytes of padding.
    expect(hex(marshal("y(i)", [1, [2]]))).toBe("01" + "00".repeat(7) + "02000000");
    // an empty array of int64: length 0 then padding to 8, no elements.
    expect(hex(marshal("ax", [[]]))).toBe("00000000" + "00000000");
    // a variant holding a uint32: signature "u", padding to 4, value.
    expect(hex(marshal("v", [new Variant("u", 7)]))).toBe("01750000" + "07000000");
    const dict = new Map<string, DBusValue>([["a", new Variant("s", "x")], ["b", new Variant("ai", [1, 2])]]);
    expect(unmarshal("a{sv}(ysa(ii))", marshal("a{sv}(ysa(ii))", [dict, [1, "s", [[1, 2], [3, 4]]]]))).toEqual([dict, [1, "s", [[1, 2], [3, 4]]]]);
  });

  test("dbus/AC-03: property: 500 random bodies of random signatures unmarshal to what was marshalled, both byte orders", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const { signature, body } = randomBody(r);
      const le = seed % 2 === 0;
      let back: DBusValue[];
      try {
        back = unmarshal(signature, marshal(signature, body, le), le);
      } catch (e) {
        throw new Error(`seed ${seed}, signature ${signature}: ${e}`);
      }
      expect({ seed, signature, back }).toEqual({ seed, signature, back: body });
    }
  }, 60_000);

  test("dbus/AC-03: property: 200 random messages encode and decode to the same message", () => {
    for (let seed = 1000; seed < 1200; seed++) {
      const r = rng(seed);
      const { signature, body } = randomBody(r);
      const msg = {
        type: MessageType.MethodReturn, flags: 0, serial: seed, replySerial: 7, destination: ":1.5", sender: "org.example.Echo",
        signature, body,
      };
      const back = decodeMessage(encodeMessage(msg, seed % 2 === 0));
      expect({ seed, back }).toEqual({ seed, back: msg });
    }
  }, 60_000);
});

describe("refused before sending", () => {
  const refuses = (sig: string, v: DBusValue, why: RegExp) => {
    expect(() => marshal(sig, [v])).toThrow(why);
    expect(() => marshal(sig, [v])).toThrow(DBusMarshalError);
  };

  test("dbus/AC-04: a value that does not fit its type is refused, naming the argument, the value and the type", () => {
    refuses("y", 256, /argument 0: 256 is not a valid 'y' \(out of range 0\.\.255\)/);
    refuses("n", 1.5, /not a valid 'n'/);
    refuses("u", -1, /out of range/);
    refuses("t", -1n, /out of range/);
    refuses("x", 1n << 63n, /out of range/);
    refuses("s", "a\0b", /contains a nul character/);
    refuses("s", "\ud800", /lone surrogate/);
    refuses("o", "/a/", /not an object path/);
    refuses("o", "relative", /not an object path/);
    refuses("g", "a{vs}", /dict key is not a basic type/);
    refuses("v", "plain", /must be a Variant/);
    refuses("v", new Variant("ii", 1), /exactly one/);
    refuses("(ii)", [1], /array of 2 fields/);
    refuses("a{ss}", [["a", "b"]], /must be a Map/);
    refuses("b", 1, /not a valid 'b'/);
    expect(() => marshal("ss", ["a"])).toThrow(/takes 2 values, got 1/);
  });

  test("dbus/AC-05: signatures are checked by the specification's rules", () => {
    const bad: [string, RegExp][] = [
      ["{ss}", /dict entry outside an array/],
      ["a{(i)s}", /dict key is not a basic type/],
      ["a{s}", /without a value/],
      ["a{sss}", /more than two fields/],
      ["()", /empty struct/],
      ["(i", /unclosed struct/],
      ["a", /ends inside a container/],
      ["h", /unknown or misplaced type code "h"/],
      ["r", /unknown or misplaced/],
      [")", /unknown or misplaced/],
      ["a".repeat(33) + "i", /more than 32 nested arrays/],
      ["(".repeat(33) + "i" + ")".repeat(33), /more than 32 nested structs/],
      ["i".repeat(256), /longer than 255/],
    ];
    for (const [s, why] of bad) expect(() => parseSignature(s, mfail)).toThrow(why);
    for (const s of ["", "a{sv}", "a(sss)", "ba(sss)", "a".repeat(32) + "i", "aa{sa{sv}}", "(yv)"]) {
      expect(parseSignature(s, mfail).map(signatureOf).join("")).toBe(s);
    }
  });
});

describe("fuzz", () => {
  test("dbus/AC-15: 3000 mutated frames (byte flips, truncations, rewritten lengths) decode or fail with DBusProtocolError, nothing else", () => {
    const outcomes = { decoded: 0, refused: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const { signature, body } = randomBody(r);
      const frame = encodeMessage({ type: MessageType.MethodReturn, flags: 0, serial: seed, replySerial: 1, signature, body }, seed % 2 === 0);
      let f: Uint8Array = frame.slice();
      const kind = Math.floor(r() * 4);
      const at = Math.floor(r() * f.length);
      if (kind === 0) f[at] = Math.floor(r() * 256);
      else if (kind === 1) f = f.subarray(0, at);
      else if (kind === 2) {
        // Rewrite a 32-bit word (a length, a count) with a random, often huge, value.
        const p = at - (at % 4);
        if (p + 4 <= f.length) new DataView(f.buffer, f.byteOffset).setUint32(p, Math.floor(r() * 2 ** 32), seed % 2 === 0);
      } else {
        for (let i = 0; i < 4; i++) {
          const j = Math.floor(r() * f.length);
          f[j] = f[j]! ^ (1 << Math.floor(r() * 8));
        }
      }
      // A mutated frame is only offered whole when its header says it is whole, as the connection does.
      let total: number | undefined;
      try {
        total = frameLength(f);
      } catch (e) {
        expect(e).toBeInstanceOf(DBusProtocolError);
        outcomes.refused++;
        continue;
      }
      if (total === undefined || total > f.length) continue; // the connection would wait for more (bounded by its timeout)
      try {
        decodeMessage(f.subarray(0, total));
        outcomes.decoded++;
      } catch (e) {
        if (!(e instanceof DBusProtocolError)) throw new Error(`seed ${seed}, signature ${signature}: ${e}`);
        outcomes.refused++;
      }
    }
    expect(outcomes.refused).toBeGreaterThan(1000);
    expect(outcomes.decoded).toBeGreaterThan(0);
  }, 120_000);
});
