// Tiny hand-made protobuf for the gRPC tests: a few etcd messages encoded
// and read field by field, independent of the project's codec.

const encoder = new TextEncoder();

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return bytes;
}

/** A length-delimited field. */
export function field(number: number, value: Uint8Array | string): number[] {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return [(number << 3) | 2, ...varint(bytes.length), ...bytes];
}

/** The fields as one message (with `big` bytes after them). */
export function concat(parts: number[][], big?: Uint8Array): Uint8Array {
  const head = parts.flat();
  if (big === undefined) return Uint8Array.from(head);
  const out = new Uint8Array(head.length + big.length);
  out.set(head);
  out.set(big, head.length);
  return out;
}

/** RangeRequest{key = 1, range_end = 2, count_only = 8 (varint)}. */
export function rangeRequest(
  key: string,
  rangeEnd?: string,
  countOnly = false,
): Uint8Array {
  const parts = [field(1, key)];
  if (rangeEnd !== undefined) parts.push(field(2, rangeEnd));
  if (countOnly) parts.push([8 << 3, 1]);
  return concat(parts);
}

/** PutRequest{key = 1, value = 2}. */
export function putRequest(
  key: string,
  value: string | Uint8Array,
): Uint8Array {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return concat(
    [field(1, key), [(2 << 3) | 2, ...varint(bytes.length)]],
    bytes,
  );
}

/** The fields of a message: number -> values (varints as numbers). */
export function fields(
  message: Uint8Array,
): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let at = 0;
  const readVarint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return value;
    }
  };
  while (at < message.length) {
    const tag = readVarint();
    const number = Math.floor(tag / 8);
    let value: number | Uint8Array;
    switch (tag & 7) {
      case 0:
        value = readVarint();
        break;
      case 2: {
        const length = readVarint();
        value = message.subarray(at, at + length);
        at += length;
        break;
      }
      default:
        throw new Error(`wire type ${tag & 7} not handled`);
    }
    const values = out.get(number);
    if (values === undefined) out.set(number, [value]);
    else values.push(value);
  }
  return out;
}

/** RangeResponse's kvs as [key, value] texts, and its count. */
export function rangeResponse(
  message: Uint8Array,
): { kvs: [string, Uint8Array][]; count: number } {
  const top = fields(message);
  const decoder = new TextDecoder();
  const kvs = (top.get(2) ?? []).map((kv) => {
    const kvFields = fields(kv as Uint8Array);
    return [
      decoder.decode(kvFields.get(1)![0] as Uint8Array),
      (kvFields.get(5)?.[0] as Uint8Array | undefined) ?? new Uint8Array(0),
    ] as [string, Uint8Array];
  });
  return { kvs, count: (top.get(4)?.[0] as number | undefined) ?? 0 };
}

/** The revision in a response's header (field 1, revision 3). */
export function revisionOf(message: Uint8Array): number {
  const header = fields(message).get(1)?.[0] as Uint8Array | undefined;
  if (header === undefined) return 0;
  return (fields(header).get(3)?.[0] as number | undefined) ?? 0;
}

/** WatchRequest{create_request = 1: WatchCreateRequest{key = 1, range_end = 2}}. */
export function watchCreate(key: string, rangeEnd?: string): Uint8Array {
  const create = rangeRequest(key, rangeEnd);
  return Uint8Array.from(field(1, create));
}

/** A WatchResponse's events' keys (events = 11, kv = 2, key = 1). */
export function watchedKeys(message: Uint8Array): string[] {
  const decoder = new TextDecoder();
  return (fields(message).get(11) ?? []).map((event) => {
    const kv = fields(event as Uint8Array).get(2)![0] as Uint8Array;
    return decoder.decode(fields(kv).get(1)![0] as Uint8Array);
  });
}

/** TxnRequest{success = 2: RequestOp{request_put = 2: PutRequest}...}. */
export function txnPuts(pairs: [string, string][]): Uint8Array {
  return concat(
    pairs.map(([key, value]) => field(2, field2(2, putRequest(key, value)))),
  );
}

function field2(number: number, value: Uint8Array): Uint8Array {
  return Uint8Array.from(field(number, value));
}
