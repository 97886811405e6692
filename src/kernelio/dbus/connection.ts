/**
 * One D-Bus connection over a unix stream socket: authenticate, Hello, then
 * method calls matched to replies by serial, signals to listeners, and
 * incoming method calls to one handler (used by tests to serve an object).
 * Lifecycle: connect() → call()/onSignal()/serve() → close(); close() is
 * harmless twice. Every wait is bounded: the handshake and each call time
 * out; a malformed frame closes the connection and fails what is pending.
 */
import type { Socket } from "node:net";
import { DBusClosed, DBusError, DBusProtocolError, DBusRemoteError, DBusTimeout } from "./errors.ts";
import type { DBusValue } from "./marshal.ts";
import { decodeMessage, encodeMessage, Flags, frameLength, MessageType, type Message } from "./message.ts";
import { authRequest, BEGIN, parseAuthReply, takeAuthLine } from "./sasl.ts";

/** Default bound on one method call; systemd answers within milliseconds, jobs are waited for separately. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** Options of DBusConnection.connect. */
export interface ConnectOptions {
  /** Bound on connect + authenticate + Hello (default 10 s). */
  timeoutMs?: number;
  /** Default bound on each call (default DEFAULT_CALL_TIMEOUT_MS). */
  callTimeoutMs?: number;
  /** Skip Hello (only for talking to a peer that is not a bus, e.g. a test's fake server). */
  noHello?: boolean;
}

/** What to call: destination, object, interface, member, and the typed body. */
export interface CallSpec {
  destination?: string;
  path: string;
  interface?: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
  timeoutMs?: number;
  /** Let polkit ask the user (systemd honours it; we leave it off: Bulwark runs as root). */
  interactive?: boolean;
}

/** The answer a served method gives: a typed body, or throw DBusRemoteError to answer with an error. */
export interface MethodResult {
  signature: string;
  body: DBusValue[];
}

/** A served object's method handler: called for every incoming METHOD_CALL. */
export type MethodHandler = (call: Message) => MethodResult | Promise<MethodResult>;

interface Pending {
  resolve(m: Message): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  what: string;
}

type Phase = "auth" | "open" | "closed";

/** A connection to a D-Bus daemon (or peer); see the module comment for its lifecycle. */
export class DBusConnection {
  /** Our unique bus name from Hello (":1.42"), "" when Hello was skipped. */
  uniqueName = "";
  /** The server's guid from authentication. */
  guid = "";
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly signalListeners = new Set<(m: Message) => void>();
  private readonly closeListeners = new Set<(e: Error) => void>();
  private handler: MethodHandler | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private phase: Phase = "auth";
  private closedWhy = "";
  private authWaiter: { resolve(): void; reject(e: Error): void } | undefined;

  private constructor(private readonly socket: Socket, readonly socketPath: string, private readonly callTimeoutMs: number) {}

  /**
   * Connect to the unix socket at SOCKET_PATH, authenticate as our uid and say Hello.
   * @example const c = await DBusConnection.connect("/run/dbus/system_bus_socket")
   */
  static async connect(socketPath: string, opts: ConnectOptions = {}): Promise<DBusConnection> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    // Loaded here, not at import: node:net was ~2 % of an offline `check`'s start-up, which never connects.
    const { createConnection } = await import("node:net");
    const socket = createConnection({ path: socketPath });
    const c = new DBusConnection(socket, socketPath, opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    const timer = setTimeout(() => c.fail(new DBusTimeout(`connecting to ${socketPath}`, timeoutMs)), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        c.authWaiter = { resolve, reject };
        socket.on("connect", () => socket.write(authRequest(process.getuid?.() ?? 0)));
        socket.on("data", (d: Buffer) => c.onData(d));
        socket.on("error", (e: Error) => c.fail(new DBusClosed(`socket ${socketPath}`, e.message)));
        socket.on("close", () => c.fail(c.size > 0 && c.phase === "open"
          ? new DBusProtocolError(`truncated message: the peer closed the connection ${c.size} bytes into a frame`)
          : new DBusClosed(`socket ${socketPath}`, "closed by the peer")));
      });
      if (!opts.noHello) {
        const r = await c.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello", timeoutMs });
        if (typeof r.body[0] !== "string") throw new DBusProtocolError(`Hello answered with signature '${r.signature}', not 's'`);
        c.uniqueName = r.body[0];
      }
      return c;
    } catch (e) {
      c.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True until close() or a failure. */
  get isOpen(): boolean {
    return this.phase !== "closed";
  }

  private onData(d: Buffer): void {
    if (this.phase === "closed") return;
    this.chunks.push(d);
    this.size += d.length;
    try {
      if (this.phase === "auth") {
        const buf = Buffer.concat(this.chunks, this.size);
        const got = takeAuthLine(buf);
        if (!got) return;
        this.guid = parseAuthReply(got.line);
        this.chunks = got.rest.length ? [Buffer.from(got.rest)] : [];
        this.size = got.rest.length;
        this.socket.write(BEGIN);
        this.phase = "open";
        this.authWaiter?.resolve();
        this.authWaiter = undefined;
      }
      this.drainFrames();
    } catch (e) {
      this.fail(e instanceof DBusError ? e : new DBusProtocolError(String(e)));
    }
  }

  /** Cut whole frames off the buffered bytes; each frame is decoded (validated) before it is dispatched. */
  private drainFrames(): void {
    while (this.phase === "open" && this.size >= 16) {
      const head = this.chunks[0]!.length >= 16 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      const total = frameLength(head)!;
      if (this.size < total) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      const frame = all.subarray(0, total);
      const rest = all.subarray(total);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
      this.dispatch(decodeMessage(new Uint8Array(frame.buffer, frame.byteOffset, frame.length)));
    }
  }

  private dispatch(m: Message): void {
    if (m.type === MessageType.MethodReturn || m.type === MessageType.Error) {
      const p = this.pending.get(m.replySerial!);
      if (!p) return; // a late reply to a call that timed out
      this.pending.delete(m.replySerial!);
      clearTimeout(p.timer);
      if (m.type === MessageType.Error) {
        const text = typeof m.body[0] === "string" ? m.body[0] : "";
        p.reject(new DBusRemoteError(m.errorName!, text, p.what));
      } else p.resolve(m);
    } else if (m.type === MessageType.Signal) {
      for (const l of this.signalListeners) l(m);
    } else if (m.type === MessageType.MethodCall) {
      void this.answer(m);
    }
    // Unknown message types must be ignored (specification).
  }

  private async answer(m: Message): Promise<void> {
    const wantsReply = (m.flags & Flags.NoReplyExpected) === 0;
    const base = { flags: Flags.NoAutoStart, replySerial: m.serial, destination: m.sender };
    let reply: Omit<Message, "serial">;
    try {
      if (!this.handler) throw new DBusRemoteError("org.freedesktop.DBus.Error.UnknownMethod", `no object is served at ${m.path}`, m.member!);
      const r = await this.handler(m);
      reply = { ...base, type: MessageType.MethodReturn, signature: r.signature, body: r.body };
    } catch (e) {
      const name = e instanceof DBusRemoteError ? e.errorName : "org.freedesktop.DBus.Error.Failed";
      const text = e instanceof DBusRemoteError ? e.text : e instanceof Error ? e.message : String(e);
      reply = { ...base, type: MessageType.Error, errorName: name, signature: "s", body: [text] };
    }
    if (!wantsReply || this.phase !== "open") return;
    // Never throw from here (nobody awaits it): a reply that cannot be encoded (a handler's bad
    // body) becomes a plain error; a caller whose sender we cannot address gets no answer.
    try {
      this.send(reply);
    } catch (e) {
      try {
        this.send({ ...base, type: MessageType.Error, errorName: "org.freedesktop.DBus.Error.Failed", signature: "s", body: [e instanceof Error ? e.message : String(e)] });
      } catch {
        // The peer's sender field itself is unusable: drop the call.
      }
    }
  }

  /** Send M with the next serial; returns the serial. */
  private send(m: Omit<Message, "serial">): number {
    if (this.phase !== "open") throw new DBusClosed(`sending ${m.member ?? "a reply"}`, this.closedWhy || "not open");
    this.serial = this.serial >= 0xffffffff ? 1 : this.serial + 1;
    const serial = this.serial;
    this.socket.write(encodeMessage({ ...m, serial }));
    return serial;
  }

  /**
   * Call a method and wait for its reply (bounded by the timeout). An ERROR
   * reply rejects with DBusRemoteError naming the D-Bus error and its text.
   */
  call(spec: CallSpec): Promise<Message> {
    const what = `${spec.interface ? spec.interface + "." : ""}${spec.member}${spec.destination ? ` on ${spec.destination}` : ""}`;
    return new Promise<Message>((resolve, reject) => {
      let serial: number;
      try {
        serial = this.send({
          type: MessageType.MethodCall,
          flags: spec.interactive ? Flags.AllowInteractiveAuthorization : 0,
          destination: spec.destination,
          path: spec.path,
          interface: spec.interface,
          member: spec.member,
          signature: spec.signature ?? "",
          body: spec.body ?? [],
        });
      } catch (e) {
        reject(e);
        return;
      }
      const ms = spec.timeoutMs ?? this.callTimeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new DBusTimeout(what, ms));
      }, ms);
      this.pending.set(serial, { resolve, reject, timer, what });
    });
  }

  /** Emit a signal from this connection (tests serve objects that emit, e.g. a fake systemd's JobRemoved). */
  emitSignal(path: string, iface: string, member: string, signature = "", body: DBusValue[] = [], destination?: string): void {
    this.send({ type: MessageType.Signal, flags: 0, path, interface: iface, member, signature, body, destination });
  }

  /** Call LISTENER for every signal received; returns a function that stops it. */
  onSignal(listener: (m: Message) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** Call LISTENER once when the connection closes or fails, with the reason (waits kept outside call() end with it). */
  onClose(listener: (e: Error) => void): void {
    this.closeListeners.add(listener);
  }

  /** Answer every incoming method call with HANDLER (one handler per connection). */
  serve(handler: MethodHandler): void {
    this.handler = handler;
  }

  private fail(e: Error): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.closedWhy = e.message;
    this.authWaiter?.reject(e);
    this.authWaiter = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e instanceof DBusClosed || e instanceof DBusTimeout ? new DBusClosed(p.what, e.message) : e);
    }
    this.pending.clear();
    this.chunks = [];
    this.size = 0;
    this.socket.destroy();
    for (const l of this.closeListeners) l(e);
    this.closeListeners.clear();
  }

  /** Close the connection; pending calls fail with DBusClosed. Harmless when already closed. */
  close(): void {
    this.fail(new DBusClosed(this.socketPath, "closed by us"));
  }
}
