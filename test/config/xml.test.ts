/** src/config/xml.ts, case by case (specs/config/xml.spec.yaml); the property and libxml2 tests are in xml.property.test.ts. */
import { describe, expect, test } from "bun:test";
import { attr, childElements, parseXml, textOf, XML_NS, XmlError } from "../../src/config/xml.ts";

function error(text: string): XmlError {
  try {
    parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) return e;
    throw e;
  }
  throw new Error(`accepted: ${text}`);
}

describe("xml", () => {
  test("xml/AC-01: elements, attributes, entities, CDATA, comments, PIs and namespaces by prefix", () => {
    const root = parseXml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<!-- lead -->\n<x:Tailoring xmlns:x="urn:x" id="t&#x41;&#66;">` +
        `<x:Profile extends="a\tb"><?pi data?><x:select idref="r" selected="false"/><d xmlns="urn:d" xml:lang="en">1 &lt; 2 &amp;&amp; <![CDATA[<raw>&amp;]]><!-- c -->&quot;&apos;&gt;</d></x:Profile></x:Tailoring>`,
    );
    expect([root.ns, root.local, root.name, attr(root, "id")]).toEqual(["urn:x", "Tailoring", "x:Tailoring", "tAB"]);
    const [profile] = childElements(root, "urn:x", "Profile");
    expect(attr(profile!, "extends")).toBe("a b"); // attribute white space becomes spaces
    expect(childElements(profile!, "urn:x", "select").map((s) => [attr(s, "idref"), attr(s, "selected")])).toEqual([["r", "false"]]);
    const [d] = childElements(profile!, "urn:d", "d");
    expect(textOf(d!)).toBe(`1 < 2 && <raw>&amp;"'>`);
    expect(d!.attrs).toEqual([{ name: "xml:lang", local: "lang", ns: XML_NS, value: "en" }]);
    // Unprefixed attributes are in no namespace, even under a default namespace.
    const e = parseXml(`<a xmlns="urn:a" k="1"><b xmlns=""/></a>`);
    expect([e.ns, e.attrs[0]!.ns, (e.children[0] as any).ns]).toEqual(["urn:a", null, null]);
    expect(e.attrs.map((a) => a.name)).toEqual(["k"]); // declarations are not attributes
  });

  test("xml/AC-02: malformed or unsupported input is an error naming line and column", () => {
    const cases: [string, RegExp, number, number][] = [
      ['<!DOCTYPE a [<!ENTITY x "y">]>\n<a>&x;</a>', /DOCTYPE is not supported/, 1, 1],
      ["<a>\n  &nbsp;</a>", /undefined entity &nbsp;/, 2, 3],
      ["<a>fish & chips</a>", /`&` that does not start/, 1, 9],
      ["<a>\n<p:b/></a>", /prefix p of p:b is not bound/, 2, 1],
      ['<a k="1"\n k="2"/>', /attribute k given twice/, 2, 2],
      ['<a xmlns:p="urn:x" xmlns:q="urn:x" p:k="1" q:k="2"/>', /given twice \(by namespace\)/, 1, 1],
      ["<a>\n<b></a>", /end tag <\/a> does not match <b>/, 2, 4],
      ["<a><b>", /element b is never closed/, 1, 4],
      ["<a/>\n<b/>", /content after the root element/, 2, 1],
      ["text<a/>", /text before the root element/, 1, 1],
      ["<a><!-- x -- y --></a>", /`--` inside a comment/, 1, 4],
      ["<a>x]]>y</a>", /`]]>` in character data/, 1, 5],
      ['<a k="<"/>', /`<` in the value of attribute k/, 1, 7],
      ["<a>\u0001</a>", /U\+0001 is not allowed/, 1, 4],
      ["<a>&#0;</a>", /not an allowed XML character/, 1, 4],
      ['<a xmlns="not a uri"/>', /is not a valid URI/, 1, 1],
      ['<?xml version="1.0" encoding="ISO-8859-1"?><a/>', /encoding ISO-8859-1 is not supported/, 1, 31],
      ["<?xml versio='1.0'?><a/>", /malformed XML declaration/, 1, 1],
      ['<a/><?xml version="1.0"?>', /must be at the very start/, 1, 5],
      ["", /no root element/, 1, 1],
      ["<a k=1/>", /must be quoted/, 1, 6],
    ];
    for (const [text, re, line, column] of cases) {
      const e = error(text);
      expect({ text, message: e.message, at: [e.line, e.column] }).toEqual({ text, message: expect.stringMatching(re), at: [line, column] });
      expect(e.message).toStartWith(`line ${line}, column ${column}: `);
    }
  });

  test("xml/AC-03: a byte-order mark is skipped and CR LF is LF, so positions match an editor's", () => {
    expect(parseXml("\ufeff<a>x\r\ny\rz</a>").children).toEqual(["x\ny\nz"]);
    const e = error("\ufeff<a>\r\n<b>\r\n</a>");
    expect([e.line, e.column]).toEqual([3, 1]);
  });
});
