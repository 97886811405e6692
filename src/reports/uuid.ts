/** Name-based (version 5 layout) UUIDs: the same run always renders the same OSCAL document. */

/** A UUID derived from NAME (SHA-1, RFC 4122 version 5 bits set), stable across renders. */
export function nameUuid(name: string): string {
  const h = new Bun.CryptoHasher("sha1").update(`bulwark:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
