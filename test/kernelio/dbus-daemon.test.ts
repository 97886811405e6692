/**
 * The D-Bus client against the real dbus-daemon (a private one on a temp
 * socket): the daemon validates every message it routes, so anything
 * malformed from us would get our connection dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { DBusConnection, DBusRemoteError, parseSignature, Variant, type DBusValue, type Message, type TypeNode } from "../../src/kernelio/dbus/mod.ts";
import { prerequisite } from "../support/prereq.ts";
import { dbusDaemonPresent, dbusSendPresent, startPrivateBus, type PrivateBus } from "./dbus-bus.ts";
import { randomBody, rng } from "./dbus-random.ts";

const haveDaemon = prerequisite("dbus-daemon (Debian package dbus)", dbusDaemonPresent());
const haveSend = prerequisite("dbus-send (Debian package dbus-bin)", dbusSendPresent());
const haveBusctl = prerequisite("busctl (Debian package systemd)", existsSync("/usr/bin/busctl"));

/** True when a dict with non-string keys is anywhere in V (variants included): busctl's JSON cannot print those. */
function numericKeys(t: TypeNode, v: DBusValue): boolean {
  switch (t.code) {
    case "v": {
      const x = v as Variant;
      return numericKeys(parseSignature(x.signature, (w) => new Error(w))[0]!, x.value);
    }
    case "(": return t.fields.some((f, i) => numericKeys(f, (v as DBusValue[])[i]!));
    case "a":
      if (t.elem.code === "{") {
        const { key, value } = t.elem;
        return !"sog".includes(key.code) || [...(v as Map<string, DBusValue>).values()].some((x) => numericKeys(value, x));
      }
      return (v as DBusValue[]).some((x) => numericKeys(t.elem as TypeNode, x));
    default: return false;
  }
}

/** Our value as busctl --json=short prints it: integers as numbers, variants as {type, data}, dicts as objects. */
function busctlJson(t: TypeNode, v: DBusValue): unknown {
  switch (t.code) {
    case "x": case "t": return Number(v as bigint);
    case "d": return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : null; // busctl prints no sign on zero, null for infinities
    case "v": {
      const x = v as Variant;
      return { type: x.signature, data: busctlJson(parseSignature(x.signature, (w) => new Error(w))[0]!, x.value) };
    }
    case "(": return t.fields.map((f, i) => busctlJson(f, (v as DBusValue[])[i]!));
    case "a":
      if (t.elem.code === "{") {
        const { value } = t.elem;
        return Object.fromEntries([...(v as Map<string, DBusValue>)].map(([k, x]) => [k, busctlJson(value, x)]));
      }
      return (v as DBusValue[]).map((x) => busctlJson(t.elem as TypeNode, x));
    default: return v;
  }
}

const BUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus" };
const ECHO = "org.bulwark.Echo";

describe.skipIf(!haveDaemon)("a real dbus-daemon", () => {
  let bus: PrivateBus;
  let client: DBusConnection;
  let service: DBusConnection;
  const seen: Message[] = [];

  beforeAll(async () => {
    bus = await startPrivateBus();
    client = await DBusConnection.connect(bus.socket);
    service = await DBusConnection.connect(bus.socket);
    service.serve((m) => {
      seen.push(m);
      if (m.member === "Random") return randomBody(rng(m.body[0] as number));
      if (m.member === "Fail") throw new DBusRemoteError("org.bulwark.Error.AsAsked", "failing as asked", m.member);
      return { signature: m.signature, body: m.body };
    });
    const r = await service.call({ ...BUS, member: "RequestName", signature: "su", body: [ECHO, 4] });
    expect(r.body).toEqual([1]); // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
  }, 60_000);
  afterAll(() => {
    client?.close();
    service?.close();
    bus?.stop();
  });

  test("dbus/AC-06: AUTH EXTERNAL and Hello give unique names; ListNames and GetNameOwner answer", async () => {
    expect(client.uniqueName).toMatch(/^:1\.\d+$/);
    expect(service.uniqueName).not.toBe(client.uniqueName);
    expect(client.guid).toMatch(/^[0-9a-f]{32}$/);
    expect(bus.address).toContain(client.guid);
    const names = await client.call({ ...BUS, member: "ListNames" });
    expect(names.signature).toBe("as");
    expect(names.body[0]).toEqual(expect.arrayContaining(["org.freedesktop.DBus", client.uniqueName, service.uniqueName, ECHO]));
    const owner = await client.call({ ...BUS, member: "GetNameOwner", signature: "s", body: [ECHO] });
    expect(owner.body).toEqual([service.uniqueName]);
  }, 60_000);

  test("dbus/AC-07: an error reply is a DBusRemoteError with the D-Bus error name, its message and the call", async () => {
    const e1 = await client.call({ ...BUS, member: "NoSuchMethod" }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DBusRemoteError);
    expect((e1 as DBusRemoteError).errorName).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect((e1 as DBusRemoteError).message).toContain("org.freedesktop.DBus.NoSuchMethod on org.freedesktop.DBus failed: org.freedesktop.DBus.Error.UnknownMethod");
    const e2 = await client.call({ ...BUS, member: "GetNameOwner", signature: "s", body: ["org.nobody.Here"] }).catch((e: unknown) => e);
    expect((e2 as DBusRemoteError).errorName).toBe("org.freedesktop.DBus.Error.NameHasNoOwner");
    const e3 = await client.call({ destination: ECHO, path: "/org/bulwark/Echo", interface: ECHO, member: "Fail" }).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(DBusRemoteError);
    expect((e3 as DBusRemoteError).errorName).toBe("org.bulwark.Error.AsAsked");
    expect((e3 as DBusRemoteError).text).toBe("failing as asked");
    // The connection survives errors.
    expect((await client.call({ ...BUS, member: "GetId" })).signature).toBe("s");
  }, 60_000);

  test("dbus/AC-08: 150 random signatures echo through the real daemon unchanged", async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const { signature, body } = randomBody(rng(seed));
      const r = await client.call({ destination: ECHO, path: "/org/bulwark/Echo", interface: ECHO, member: "Echo", signature, body });
      expect({ seed, signature: r.signature, body: r.body }).toEqual({ seed, signature, body });
      expect(r.sender).toBe(service.uniqueName);
    }
    expect(client.isOpen && service.isOpen).toBe(true);
  }, 120_000);

  test.skipIf(!haveBusctl)("dbus/AC-09: busctl (sd-bus, the parser systemd itself uses) reads 60 random replies of ours; its JSON shows our values", async () => {
    let compared = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const { signature, types, body } = randomBody(rng(seed));
      // busctl's JSON cannot show dicts with non-string keys: there, parsing without error is the judgement.
      const json = !types.some((t, i) => numericKeys(t, body[i]!));
      const p = Bun.spawn(["busctl", `--address=${bus.address}`, ...(json ? ["--json=short"] : []), "call", ECHO, "/org/bulwark/Echo", ECHO, "Random", "u", String(seed)], { stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect({ seed, signature, stderr, code }).toEqual({ seed, signature, stderr: "", code: 0 });
      if (!json) {
        if (signature !== "") expect(stdout.startsWith(signature + " ")).toBe(true);
        continue;
      }
      if (signature === "") continue; // no body: busctl prints nothing
      const got = JSON.parse(stdout);
      expect({ seed, got }).toEqual({ seed, got: { type: signature, data: types.map((t, i) => busctlJson(t, body[i]!)) } });
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  }, 120_000);

  test.skipIf(!haveSend)("dbus/AC-09: dbus-send --print-reply calls our echo service with typed arguments", async () => {
    seen.length = 0;
    const args = [
      "string:hello wörld", "int32:-42", "uint64:18446744073709551615", "boolean:true", "objpath:/a/b_c",
      "array:string:x,y", "dict:string:int32:k,1", "variant:double:1.5", "byte:7", "int16:-3", "uint16:65535", "int64:-9",
    ];
    // Asynchronously: the echo service answers from this very process.
    const p = Bun.spawn(["dbus-send", `--bus=${bus.address}`, "--print-reply", "--reply-timeout=20000", `--dest=${ECHO}`, "/org/bulwark/Echo", `${ECHO}.Echo`, ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, status] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const out = stdout.replace(/\s+/g, " ");
    for (const want of ['string "hello wörld"', "int32 -42", "uint64 18446744073709551615", "boolean true", 'object path "/a/b_c"',
      'array [ string "x" string "y" ]', 'array [ dict entry( string "k" int32 1 ) ]', "variant double 1.5", "byte 7", "int16 -3", "uint16 65535", "int64 -9"]) {
      expect(out).toContain(want);
    }
    // And we decoded dbus-send's marshalling to the right JS values.
    const call = seen.find((m) => m.member === "Echo")!;
    expect(call.signature).toBe("sitboasa{si}vynqx");
    const want: DBusValue[] = ["hello wörld", -42, (1n << 64n) - 1n, true, "/a/b_c", ["x", "y"], new Map([["k", 1]]), new Variant("d", 1.5), 7, -3, 65535, -9n];
    expect(call.body).toEqual(want);
  }, 60_000);
});
