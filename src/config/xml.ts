/**
 * A small, strict XML 1.0 reader for the documents Bulwark imports (an
 * OpenSCAP XCCDF tailoring file): elements, attributes, character data,
 * the five predefined entities and character references, comments, CDATA
 * sections, processing instructions (skipped) and namespaces by prefix.
 *
 * Strict on purpose: an imported file is untrusted input, so anything outside
 * that subset is an error with its line and column, never a guess. A DOCTYPE
 * is refused (no DTDs, so no entity expansion and no external fetches), as is
 * an undefined entity, an unbound prefix, a duplicate attribute, a mismatched
 * or missing end tag, text outside the root element, and characters XML 1.0
 * forbids. Pure: text in, a tree out.
 *
 * @example
 * const root = parseXml('<a xmlns="urn:x"><b k="1">t&amp;u</b></a>');
 * root.children[0] // { local: "b", ns: "urn:x", attrs: [{ name: "k", value: "1", … }], … }
 */

/** The namespace the `xml:` prefix is bound to by definition. */
export const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

/** One attribute: its name as written, its local part and namespace (none for an unprefixed name). */
export interface XmlAttribute {
  name: string;
  local: string;
  ns: string | null;
  value: string;
}

/** One element: its qualified name, local part, namespace URI (null: none), attributes, children, and where it starts. */
export interface XmlElement {
  name: string;
  local: string;
  ns: string | null;
  /** Attributes in document order, namespace declarations (xmlns, xmlns:p) left out. */
  attrs: XmlAttribute[];
  children: XmlNode[];
  /** 1-based line and column of its `<`. */
  line: number;
  column: number;
}

/** An element, or a run of character data (entities and CDATA resolved). */
export type XmlNode = XmlElement | string;

/** Malformed or unsupported XML: the message names the 1-based line and column. */
export class XmlError extends Error {
  constructor(readonly problem: string, readonly line: number, readonly column: number) {
    super(`line ${line}, column ${column}: ${problem}`);
    this.name = "XmlError";
  }
}

const XML_DECL = /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]*\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\4)?[ \t\n]*\?>/;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
// XML 1.0 NameStartChar / NameChar, restricted to the BMP plus the astral range the spec allows.
const NAME_START = "A-Za-z_:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD";
const NAME_RE = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, "y");
// A name part around the colon of a qualified name (XML namespaces' NCName): a Name without colons.
const NCNAME_RE = new RegExp(`^[${NAME_START.replace(":", "")}][${NAME_START.replace(":", "")}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);
// Characters XML 1.0 forbids anywhere: C0 controls but tab, LF, CR; lone surrogates; U+FFFE, U+FFFF.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Is CODE a character XML 1.0 allows (for a character reference)? */
function allowedChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

interface RawElement {
  name: string;
  attrs: { name: string; value: string }[];
  children: (RawElement | string)[];
  line: number;
  column: number;
}

/**
 * Parse TEXT as one XML document and return its root element, namespaces
 * resolved. Throws an XmlError naming the line and column of the first
 * problem; nothing is half-returned.
 */
export function parseXml(text: string): XmlElement {
  return resolveNamespaces(new Reader(text).document(), new Map([["xml", XML_NS]]), null);
}

class Reader {
  private pos = 0;
  constructor(private readonly s: string) {
    // CR LF and lone CR are LF, as an XML processor must normalise them before parsing.
    this.s = s.replace(/\r\n?/g, "\n");
    if (this.s.startsWith("\ufeff")) this.s = this.s.slice(1);
    const bad = FORBIDDEN.exec(this.s);
    if (bad) this.fail(`character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} is not allowed in XML`, bad.index);
  }

  fail(problem: string, at = this.pos): never {
    const before = this.s.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    throw new XmlError(problem, line, column);
  }

  private where(at = this.pos): { line: number; column: number } {
    const before = this.s.slice(0, at);
    return { line: before.split("\n").length, column: at - (before.lastIndexOf("\n") + 1) + 1 };
  }

  private starts(t: string): boolean {
    return this.s.startsWith(t, this.pos);
  }

  private skipSpace(): boolean {
    const from = this.pos;
    while (this.pos < this.s.length && " \t\n".includes(this.s[this.pos]!)) this.pos++;
    return this.pos > from;
  }

  private name(what: string): string {
    NAME_RE.lastIndex = this.pos;
    const m = NAME_RE.exec(this.s);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  /** Up to (not including) END, then past it; a missing END is an error about WHAT. */
  private until(end: string, what: string): string {
    const i = this.s.indexOf(end, this.pos);
    if (i < 0) this.fail(`${what} is never closed (missing ${end})`);
    const out = this.s.slice(this.pos, i);
    this.pos = i + end.length;
    return out;
  }

  /** Comments, processing instructions and white space between markup outside the root. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.starts("<!--")) this.comment();
      else if (this.starts("<?")) this.pi();
      else return;
    }
  }

  private comment(): void {
    const at = this.pos;
    this.pos += 4;
    const body = this.until("-->", "comment");
    // XML forbids `--` inside a comment (and a comment ending in `--->`).
    if (body.includes("--") || body.endsWith("-")) this.fail("`--` inside a comment", at);
  }

  private pi(): void {
    const at = this.pos;
    this.pos += 2;
    const target = this.name("a processing-instruction target");
    if (target.toLowerCase() === "xml") this.fail(at === 0 ? "malformed XML declaration" : "the XML declaration must be at the very start", at);
    if (target.includes(":")) this.fail(`a processing-instruction target may not contain a colon (${target})`, at);
    if (!this.starts("?>") && !this.skipSpace()) this.fail("expected white space after the processing-instruction target");
    this.until("?>", "processing instruction");
  }

  /** `<?xml version="1.x" encoding="UTF-8" standalone="yes"?>`: the text is already decoded, so only UTF-8 (or UTF-16, as JS strings are) is honest. */
  private declaration(): void {
    const m = XML_DECL.exec(this.s);
    if (!m) this.fail("malformed XML declaration (expected <?xml version=\"1.0\" encoding=\"UTF-8\"?>)");
    const enc = m[3];
    if (enc !== undefined && !/^utf-(8|16)$/i.test(enc)) this.fail(`encoding ${enc} is not supported (save the file as UTF-8)`, m[0].indexOf(enc));
    this.pos = m[0].length;
  }

  document(): RawElement {
    if (/^<\?xml[ \t\n]/.test(this.s)) this.declaration();
    this.misc();
    if (this.starts("<!DOCTYPE")) this.fail("a DOCTYPE is not supported (no DTDs or custom entities in an imported file)");
    if (!this.starts("<")) this.fail(this.pos >= this.s.length ? "no root element" : "text before the root element");
    const root = this.element();
    this.misc();
    if (this.pos < this.s.length) this.fail("content after the root element");
    return root;
  }

  private element(): RawElement {
    const at = this.pos;
    this.pos++; // <
    const name = this.name("an element name");
    const attrs: { name: string; value: string }[] = [];
    for (;;) {
      const spaced = this.skipSpace();
      if (this.starts("/>")) {
        this.pos += 2;
        return { name, attrs, children: [], ...this.where(at) };
      }
      if (this.starts(">")) {
        this.pos++;
        break;
      }
      if (!spaced) this.fail("expected white space, `>` or `/>` after the element name or an attribute");
      const aAt = this.pos;
      const aName = this.name("an attribute name");
      if (attrs.some((a) => a.name === aName)) this.fail(`attribute ${aName} given twice`, aAt);
      this.skipSpace();
      if (!this.starts("=")) this.fail(`expected = after attribute ${aName}`);
      this.pos++;
      this.skipSpace();
      const q = this.s[this.pos];
      if (q !== '"' && q !== "'") this.fail(`the value of attribute ${aName} must be quoted`);
      this.pos++;
      const vAt = this.pos;
      const raw = this.until(q, `the value of attribute ${aName}`);
      if (raw.includes("<")) this.fail(`\`<\` in the value of attribute ${aName}`, vAt + raw.indexOf("<"));
      // Attribute-value normalisation: each white-space character becomes a space (entities after).
      attrs.push({ name: aName, value: this.entities(raw.replace(/[\t\n]/g, " "), vAt) });
    }
    const children: (RawElement | string)[] = [];
    let text = "";
    const flush = () => {
      if (text) children.push(text);
      text = "";
    };
    for (;;) {
      if (this.pos >= this.s.length) this.fail(`element ${name} is never closed`, at);
      if (this.starts("</")) {
        flush();
        const eAt = this.pos;
        this.pos += 2;
        const end = this.name("an end-tag name");
        this.skipSpace();
        if (!this.starts(">")) this.fail(`expected > to end </${end}`);
        this.pos++;
        if (end !== name) this.fail(`end tag </${end}> does not match <${name}> (line ${this.where(at).line})`, eAt);
        return { name, attrs, children, ...this.where(at) };
      }
      if (this.starts("<!--")) this.comment();
      else if (this.starts("<![CDATA[")) {
        this.pos += 9;
        text += this.until("]]>", "CDATA section");
      } else if (this.starts("<!")) this.fail("a declaration is not allowed inside an element");
      else if (this.starts("<?")) this.pi();
      else if (this.starts("<")) {
        flush();
        children.push(this.element());
      } else {
        const next = this.s.indexOf("<", this.pos);
        const end = next < 0 ? this.s.length : next;
        const raw = this.s.slice(this.pos, end);
        const bad = raw.indexOf("]]>");
        if (bad >= 0) this.fail("`]]>` in character data", this.pos + bad);
        text += this.entities(raw, this.pos);
        this.pos = end;
      }
    }
  }

  /** Resolve &name; and &#…; in RAW, which starts at offset AT (for error positions). */
  private entities(raw: string, at: number): string {
    return raw.replace(/&([^;&\s<]*)(;?)/g, (m, body: string, semi: string, off: number) => {
      const where = at + off;
      if (!semi) this.fail("`&` that does not start an entity or character reference (write &amp;)", where);
      if (body in PREDEFINED) return PREDEFINED[body]!;
      const c = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
      if (!c) this.fail(`undefined entity &${body}; (only &lt; &gt; &amp; &quot; &apos; and character references)`, where);
      const code = c[1] !== undefined ? parseInt(c[1], 16) : parseInt(c[2]!, 10);
      if (!allowedChar(code)) this.fail(`character reference ${m} is not an allowed XML character`, where);
      return String.fromCodePoint(code);
    });
  }
}

// RFC 3986 URI-reference, as libxml2 checks a namespace name (a port, when present, has digits).
const U_PCT = "%[0-9A-Fa-f]{2}";
const U_PCHAR = `(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|${U_PCT})`;
const U_SEG_NZ_NC = `(?:[A-Za-z0-9\\-._~!$&'()*+,;=@]|${U_PCT})+`;
const U_HOST = `(?:\\[[0-9A-Fa-f:.vV]+\\]|(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|${U_PCT})*)`;
const U_AUTH = `(?:(?:[A-Za-z0-9\\-._~!$&'()*+,;=:]|${U_PCT})*@)?${U_HOST}(?::[0-9]+)?`;
const U_TAIL = `(?:\\?(?:${U_PCHAR}|[/?])*)?(?:#(?:${U_PCHAR}|[/?])*)?`;
const U_ABEMPTY = `(?:/${U_PCHAR}*)*`;
const URI_REF = new RegExp(
  `^(?:[A-Za-z][A-Za-z0-9+\\-.]*:(?://${U_AUTH}${U_ABEMPTY}|/(?:${U_PCHAR}+${U_ABEMPTY})?|${U_PCHAR}+${U_ABEMPTY}|)` +
    `|//${U_AUTH}${U_ABEMPTY}|/(?:${U_PCHAR}+${U_ABEMPTY})?|${U_SEG_NZ_NC}${U_ABEMPTY}|)${U_TAIL}$`,
);

/** Bind prefixes from xmlns declarations, scope by scope; an unbound prefix is an error at its element. */
function resolveNamespaces(e: RawElement, outer: ReadonlyMap<string, string>, outerDefault: string | null): XmlElement {
  const fail = (problem: string): never => {
    throw new XmlError(problem, e.line, e.column);
  };
  const scope = new Map(outer);
  let dflt = outerDefault;
  for (const a of e.attrs) {
    if (a.name === "xmlns") {
      if (a.value === XML_NS || a.value === XMLNS_NS) fail(`xmlns may not be ${a.value}`);
      if (!URI_REF.test(a.value)) fail(`xmlns: ${JSON.stringify(a.value)} is not a valid URI`);
      dflt = a.value === "" ? null : a.value;
    } else if (a.name.startsWith("xmlns:")) {
      const p = a.name.slice(6);
      if (!NCNAME_RE.test(p)) fail(`malformed namespace declaration ${a.name}`);
      if (p === "xmlns") fail("the prefix xmlns may not be declared");
      if (p === "xml" ? a.value !== XML_NS : a.value === XML_NS) fail(`the prefix xml is bound to ${XML_NS} only`);
      if (a.value === "") fail(`${a.name}: a prefix may not be unbound (XML namespaces 1.0)`);
      if (!URI_REF.test(a.value)) fail(`${a.name}: ${JSON.stringify(a.value)} is not a valid URI`);
      scope.set(p, a.value);
    }
  }
  const split = (qname: string, isAttr: boolean): { local: string; ns: string | null } => {
    const parts = qname.split(":");
    if (parts.length > 2 || !parts.every((p) => NCNAME_RE.test(p))) fail(`malformed qualified name ${qname}`);
    if (parts.length === 1) return { local: qname, ns: isAttr ? null : dflt };
    const ns = scope.get(parts[0]!);
    if (ns === undefined) fail(`prefix ${parts[0]} of ${qname} is not bound to a namespace (no xmlns:${parts[0]})`);
    return { local: parts[1]!, ns: ns! };
  };
  const attrs: XmlAttribute[] = [];
  const seen = new Set<string>();
  for (const a of e.attrs) {
    if (a.name === "xmlns" || a.name.startsWith("xmlns:")) continue;
    const q = split(a.name, true);
    // Two prefixes bound to one namespace may not name the same attribute twice.
    const key = `${q.ns ?? ""}\u0000${q.local}`;
    if (seen.has(key)) fail(`attribute ${a.name} given twice (by namespace)`);
    seen.add(key);
    attrs.push({ name: a.name, ...q, value: a.value });
  }
  const q = split(e.name, false);
  return {
    name: e.name,
    ...q,
    attrs,
    children: e.children.map((c) => (typeof c === "string" ? c : resolveNamespaces(c, scope, dflt))),
    line: e.line,
    column: e.column,
  };
}

/** The value of the attribute with local name LOCAL and no namespace, or undefined. */
export function attr(e: XmlElement, local: string): string | undefined {
  return e.attrs.find((a) => a.local === local && a.ns === null)?.value;
}

/** The child elements of E in namespace NS with local name LOCAL (every child element when LOCAL is omitted). */
export function childElements(e: XmlElement, ns: string | null, local?: string): XmlElement[] {
  return e.children.filter((c): c is XmlElement => typeof c !== "string" && c.ns === ns && (local === undefined || c.local === local));
}

/** The character data directly inside E, concatenated. */
export function textOf(e: XmlElement): string {
  return e.children.filter((c): c is string => typeof c === "string").join("");
}
