// HPACK against the examples of RFC 7541 Appendix C, and its limits.

import assert from "node:assert/strict";
import {
  type Header,
  HeaderListTooLarge,
  HpackDecoder,
  HpackEncoder,
  huffmanDecode,
} from "../../_h2/hpack.ts";
import { H2Error } from "../../_h2/errors.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** One header block of an example: its bytes, headers and table size. */
type Block = [bytes: string, headers: Header[], tableSize: number];

const REQUEST = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
] as const;
const REQUEST3 = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
] as const;
const RESPONSE1 = [
  [":status", "302"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["location", "https://www.example.com"],
] as const;
const RESPONSE2 = [[":status", "307"], ...RESPONSE1.slice(1)] as const;
const RESPONSE3 = [
  [":status", "200"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ["location", "https://www.example.com"],
  ["content-encoding", "gzip"],
  ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
] as const;

const EXAMPLES: Record<string, { size: number; blocks: Block[] }> = {
  "C.3 requests without Huffman": {
    size: 4096,
    blocks: [
      ["828684410f7777772e6578616d706c652e636f6d", [...REQUEST], 57],
      ["828684be58086e6f2d6361636865", [
        ...REQUEST,
        ["cache-control", "no-cache"],
      ], 110],
      [
        "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
        [...REQUEST3],
        164,
      ],
    ],
  },
  "C.4 requests with Huffman": {
    size: 4096,
    blocks: [
      ["828684418cf1e3c2e5f23a6ba0ab90f4ff", [...REQUEST], 57],
      ["828684be5886a8eb10649cbf", [
        ...REQUEST,
        ["cache-control", "no-cache"],
      ], 110],
      ["828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf", [...REQUEST3], 164],
    ],
  },
  "C.5 responses without Huffman": {
    size: 256,
    blocks: [
      [
        "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
        [...RESPONSE1],
        222,
      ],
      ["4803333037c1c0bf", [...RESPONSE2], 222],
      [
        "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
        [...RESPONSE3],
        215,
      ],
    ],
  },
  "C.6 responses with Huffman": {
    size: 256,
    blocks: [
      [
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
        [...RESPONSE1],
        222,
      ],
      ["4883640effc1c0bf", [...RESPONSE2], 222],
      [
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
        [...RESPONSE3],
        215,
      ],
    ],
  },
};

for (const [name, { size, blocks }] of Object.entries(EXAMPLES)) {
  Deno.test(`HPACK RFC 7541 ${name}: decoded, table in step`, () => {
    const decoder = new HpackDecoder({ maxTableSize: size });
    // The examples' table size is below the default: the decoder starts at
    // its maximum, and the peer's size update is implied by the example.
    if (size !== 4096) decoder.decode(hex(`3f${size === 256 ? "e101" : ""}`));
    for (const [bytes, headers, tableSize] of blocks) {
      assert.deepEqual(decoder.decode(hex(bytes)), headers);
      assert.equal(decoder.tableSize, tableSize);
    }
  });
  Deno.test(`HPACK RFC 7541 ${name}: encoded byte for byte`, () => {
    const encoder = new HpackEncoder({
      huffman: name.includes("with Huffman"),
      indexing: () => "index",
    });
    encoder.setMaxTableSize(size);
    for (const [index, [bytes, headers]] of blocks.entries()) {
      let encoded = toHex(encoder.encode(headers));
      // Our first block after a smaller table announces it.
      if (index === 0 && size === 256) {
        assert.ok(encoded.startsWith("3fe101"));
        encoded = encoded.slice(6);
      }
      assert.equal(encoded, bytes);
    }
  });
}

Deno.test("HPACK RFC 7541 C.2: literal, without indexing, never indexed, indexed", () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(
    decoder.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")),
    [["custom-key", "custom-header"]],
  );
  assert.equal(decoder.tableSize, 55);
  assert.deepEqual(decoder.decode(hex("040c2f73616d706c652f70617468")), [[
    ":path",
    "/sample/path",
  ]]);
  assert.deepEqual(decoder.decode(hex("100870617373776f726406736563726574")), [
    ["password", "secret"],
  ]);
  assert.deepEqual(decoder.decode(hex("82")), [[":method", "GET"]]);
  assert.equal(decoder.tableSize, 55);
  assert.deepEqual(decoder.dynamicTable, [["custom-key", "custom-header"]]);
});

Deno.test("HPACK encoder: a gRPC call's repeated headers shrink to one byte each", () => {
  const encoder = new HpackEncoder();
  const call: Header[] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/etcdserverpb.KV/Range"],
    [":authority", "127.0.0.1:2379"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["grpc-timeout", "5000m"],
    ["token", "secret.token"],
  ];
  const first = encoder.encode(call).slice();
  const second = encoder.encode(call).slice();
  assert.ok(second.length < first.length / 2, `${second.length} bytes`);
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(first), call);
  assert.deepEqual(decoder.decode(second), call);
  // The token is sent never-indexed (0001xxxx), never kept in the table.
  assert.ok(!decoder.dynamicTable.some(([name]) => name === "token"));
});

Deno.test("HPACK encoder: lists sent again, while the table churns, decode as sent", () => {
  // A small table, so that new lists evict what earlier ones indexed: a
  // block kept for a list must not be sent once its indices moved.
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  encoder.setMaxTableSize(200);
  const lists: Header[][] = Array.from({ length: 6 }, (_, i) => [
    [":method", "POST"],
    [":path", `/etcdserverpb.KV/Call${i}`],
    [":authority", `member-${i % 3}:2379`],
    ["te", "trailers"],
    ["grpc-timeout", `${i}m`],
  ]);
  let seed = 7;
  for (let round = 0; round < 300; round++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const list = lists[seed % lists.length]!;
    assert.deepEqual(decoder.decode(encoder.encode(list).slice()), list);
  }
  assert.ok(decoder.tableSize <= 200);
});

function refusal(block: string, pattern: RegExp, options = {}): void {
  let error: unknown;
  try {
    new HpackDecoder(options).decode(hex(block));
  } catch (thrown) {
    error = thrown;
  }
  assert.ok(error instanceof H2Error, `${block} was accepted`);
  assert.match(error.message, pattern);
}

Deno.test("HPACK limits: malformed blocks are COMPRESSION_ERRORs that say what", () => {
  // Index 0, and an index past the tables.
  refusal("80", /COMPRESSION_ERROR: a header field index of 0/);
  refusal("be", /index 62 beyond the table's 61 entries/);
  // An integer that never ends, and one over 2^31.
  refusal("ffffffff", /truncated integer/);
  refusal("ffffffffffff0f", /integer over 2\^31-1/);
  // A string longer than the block.
  refusal("400a6375", /a string of 10 bytes where 2 remain/);
  // A table size update over what we announced, and one after a field.
  refusal("3fe11f", /table size update to 4096 is over the 256 allowed/, {
    maxTableSize: 256,
  });
  refusal("823f01", /table size update after a header field/);
  // Huffman: EOS inside, and padding that is not all ones.
  assert.throws(() => huffmanDecode(hex("ffffffff")), /holds EOS/);
  assert.throws(() => huffmanDecode(hex("00")), /invalid padding/);
});

Deno.test("HPACK limits: a header list over the limit is refused, the table kept in step", () => {
  const decoder = new HpackDecoder({ maxListSize: 100 });
  const big = "x".repeat(120);
  const encoder = new HpackEncoder({ indexing: () => "index" });
  const block = encoder.encode([["big", big]]).slice();
  assert.throws(() => decoder.decode(block), HeaderListTooLarge);
  // The entry was added all the same: the next block refers to it.
  const small = encoder.encode([["big", big], ["a", "b"]]).slice();
  assert.throws(() => decoder.decode(small), HeaderListTooLarge);
  assert.deepEqual(decoder.decode(encoder.encode([["a", "b"]])), [["a", "b"]]);
});
