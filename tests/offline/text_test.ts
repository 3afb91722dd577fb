import assert from "node:assert/strict";
import { utf8Text } from "../../_core/text.ts";

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
