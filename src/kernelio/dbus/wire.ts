/**
 * Byte-level reading and writing with D-Bus alignment: every value is
 * aligned to its size relative to the start of the message, padding is nul
 * bytes. The Reader is the first line against a hostile peer: every read is
 * bounds-checked and padding must be zero, as the specification requires.
 */

/** A growing output buffer in one byte order; offsets are from the message start. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  /** Bytes written so far (also the current offset). */
  length = 0;

  constructor(readonly littleEndian = true) {}

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Write nul bytes up to the next multiple of N. */
  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  u8(v: number): void { this.room(1); this.view.setUint8(this.length, v); this.length += 1; }
  u16(v: number): void { this.align(2); this.room(2); this.view.setUint16(this.length, v, this.littleEndian); this.length += 2; }
  i16(v: number): void { this.align(2); this.room(2); this.view.setInt16(this.length, v, this.littleEndian); this.length += 2; }
  u32(v: number): void { this.align(4); this.room(4); this.view.setUint32(this.length, v, this.littleEndian); this.length += 4; }
  i32(v: number): void { this.align(4); this.room(4); this.view.setInt32(this.length, v, this.littleEndian); this.length += 4; }
  u64(v: bigint): void { this.align(8); this.room(8); this.view.setBigUint64(this.length, v, this.littleEndian); this.length += 8; }
  i64(v: bigint): void { this.align(8); this.room(8); this.view.setBigInt64(this.length, v, this.littleEndian); this.length += 8; }
  f64(v: number): void { this.align(8); this.room(8); this.view.setFloat64(this.length, v, this.littleEndian); this.length += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }

  /** Overwrite the 4-byte unsigned integer at OFFSET (an array's length, known only after its elements). */
  patchU32(offset: number, v: number): void {
    this.view.setUint32(offset, v, this.littleEndian);
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A bounds-checked cursor over untrusted bytes; every violation is raised through FAIL. */
export class Reader {
  private readonly view: DataView;
  /** Offset of the next byte to read, from the start of BYTES (the alignment base). */
  pos = 0;

  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean, private readonly fail: (why: string) => Error) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Refuse to read N bytes past the end: the frame is truncated or a length lies. */
  need(n: number, what: string): void {
    if (n > this.remaining) throw this.fail(`${what} at offset ${this.pos} needs ${n} bytes, only ${this.remaining} left`);
  }

  /** Skip padding to a multiple of N; padding must exist and be nul. */
  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    this.need(pad, "alignment padding");
    for (let i = 0; i < pad; i++) {
      if (this.bytes[this.pos + i] !== 0) throw this.fail(`non-nul alignment padding at offset ${this.pos + i}`);
    }
    this.pos += pad;
  }

  u8(): number { this.need(1, "byte"); return this.view.getUint8(this.pos++); }
  u16(): number { this.align(2); this.need(2, "uint16"); const v = this.view.getUint16(this.pos, this.littleEndian); this.pos += 2; return v; }
  i16(): number { this.align(2); this.need(2, "int16"); const v = this.view.getInt16(this.pos, this.littleEndian); this.pos += 2; return v; }
  u32(): number { this.align(4); this.need(4, "uint32"); const v = this.view.getUint32(this.pos, this.littleEndian); this.pos += 4; return v; }
  i32(): number { this.align(4); this.need(4, "int32"); const v = this.view.getInt32(this.pos, this.littleEndian); this.pos += 4; return v; }
  u64(): bigint { this.align(8); this.need(8, "uint64"); const v = this.view.getBigUint64(this.pos, this.littleEndian); this.pos += 8; return v; }
  i64(): bigint { this.align(8); this.need(8, "int64"); const v = this.view.getBigInt64(this.pos, this.littleEndian); this.pos += 8; return v; }
  f64(): number { this.align(8); this.need(8, "double"); const v = this.view.getFloat64(this.pos, this.littleEndian); this.pos += 8; return v; }

  /** N raw bytes (a view, not a copy). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
