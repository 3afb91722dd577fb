import assert from "node:assert/strict";
import { utf8Text, utf8TextAt } from "../../_core/text.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);

Deno.test("utf8Text gives well-formed UTF-8 as text, byte for byte", () => {
  for (
    const text of [
      "",
      "app/port",
      "\uFEFFstarts with a BOM",
      "\uFFFD a replacement character written on purpose",
      "日本語 and emoji 🎉 and é",
      "x".repeat(100_000),
    ]
  ) {
    const encoded = new TextEncoder().encode(text);
    assert.equal(utf8Text(encoded), text);
  }
});

Deno.test("utf8Text refuses what is not UTF-8", () => {
  for (
    const raw of [
      bytes(0xff),
      bytes(0x61, 0x80, 0x62), // a lone continuation byte
      bytes(0xc3), // cut in the middle of a character
      bytes(0xed, 0xa0, 0x80), // a surrogate's encoding
      bytes(0xc0, 0xaf), // an overlong "/"
      bytes(0xef, 0xbf, 0xbd, 0xff), // U+FFFD then a bad byte
    ]
  ) {
    assert.equal(utf8Text(raw), undefined, raw.toHex());
  }
});

Deno.test("utf8TextAt reads a part of the bytes, short or long, ASCII or not", () => {
  const text = "prefix/" + "é".repeat(3) + "/" + "k".repeat(40) + "/🎉";
  const bytes = new TextEncoder().encode(text);
  const at = (part: string) => {
    const start = new TextEncoder().encode(text.slice(0, text.indexOf(part)))
      .length;
    return [start, start + new TextEncoder().encode(part).length] as const;
  };
  for (const part of ["prefix/", "éé", "k".repeat(40), "/🎉", ""]) {
    const [start, end] = at(part);
    assert.equal(utf8TextAt(bytes, start, end), part);
  }
  // A cut inside a character is not text, short or long.
  assert.equal(utf8TextAt(bytes, 0, at("é")[0] + 1), undefined);
  assert.equal(utf8TextAt(bytes, 1, bytes.length - 1), undefined);
});
