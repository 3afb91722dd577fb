// etcd's api/mvccpb/kv.proto: a key-value pair and a watch event, with
// hand-written decoders (a large range or watch answer is mostly these).
// Internal.

import { enumOf, int64, int64n, message, MessageType } from "./message.ts";
import { bytes } from "./message.ts";
import type { Reader } from "./wire.ts";

/** mvccpb.KeyValue: a key with its value and metadata. */
export interface KeyValue {
  /** The key. */
  key: Uint8Array;
  /** The revision of the key's last creation. */
  create_revision: number;
  /** The revision of the key's last change. */
  mod_revision: number;
  /** Writes since creation (0 for a deleted key). */
  version: number;
  /** The value. */
  value: Uint8Array;
  /** The ID of the key's lease (0n for none). */
  lease: bigint;
}

const EMPTY: Uint8Array = new Uint8Array(0);

function readKeyValue(r: Reader, end: number): KeyValue {
  let key = EMPTY;
  let create_revision = 0;
  let mod_revision = 0;
  let version = 0;
  let value = EMPTY;
  let lease = 0n;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        key = r.bytes();
        break;
      case 0x10:
        create_revision = r.int64();
        break;
      case 0x18:
        mod_revision = r.int64();
        break;
      case 0x20:
        version = r.int64();
        break;
      case 0x2a:
        value = r.bytes();
        break;
      case 0x30:
        lease = r.int64n();
        break;
      default:
        checkUnknown(r, tag, 6);
        r.skip(tag);
    }
  }
  return { key, create_revision, mod_revision, version, value, lease };
}

/** A known field with the wrong wire type is an error, as in the generic reader. */
function checkUnknown(r: Reader, tag: number, last: number): void {
  const no = tag >>> 3;
  if (no <= last) {
    throw r.fail(`Wire type ${tag & 7} for field ${no}, which has another`);
  }
}

// The gateway's JSON of a key-value pair, the common case only: strings
// where they belong. Anything else goes to the generic reader.
function keyValueFromJson(json: unknown): KeyValue | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return undefined;
  }
  const o = json as Record<string, unknown>;
  const key = bytesOf(o.key);
  const value = bytesOf(o.value);
  const create_revision = safe(o.create_revision);
  const mod_revision = safe(o.mod_revision);
  const version = safe(o.version);
  const lease = o.lease;
  if (
    key === undefined || value === undefined || create_revision < 0 ||
    mod_revision < 0 || version < 0 ||
    (lease !== undefined && lease !== "0")
  ) return undefined;
  return { key, create_revision, mod_revision, version, value, lease: 0n };
}

function bytesOf(text: unknown): Uint8Array | undefined {
  if (text === undefined || text === "") return EMPTY;
  if (typeof text !== "string") return undefined;
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    return undefined;
  }
}

// A revision or version as the gateway writes it; -1 for anything else.
function safe(text: unknown): number {
  if (text === undefined) return 0;
  if (typeof text !== "string" || text.length > 15) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return text.length === 0 ? -1 : Number(text);
}

/** mvccpb.KeyValue. */
export const KeyValue: MessageType<KeyValue> = new MessageType(
  "mvccpb.KeyValue",
  {
    key: bytes(1),
    create_revision: int64(2),
    mod_revision: int64(3),
    version: int64(4),
    value: bytes(5),
    lease: int64n(6),
  },
  readKeyValue,
  keyValueFromJson,
);

/** mvccpb.Event.EventType. */
export const EventType = { PUT: 0, DELETE: 1 } as const;
const EVENT_TYPES = ["PUT", "DELETE"];

/** mvccpb.Event: a change of one key. */
export interface Event {
  /** `EventType.PUT` or `EventType.DELETE`. */
  type: number;
  /** The key after the change (a DELETE: key and mod_revision only). */
  kv: KeyValue | undefined;
  /** The key before, when the watch asked for prev_kv and it existed. */
  prev_kv: KeyValue | undefined;
}

function readEvent(r: Reader, end: number): Event {
  let type = 0;
  let kv: KeyValue | undefined;
  let prev_kv: KeyValue | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        type = r.int32();
        break;
      case 0x12:
        kv = KeyValue.read(r, r.length());
        break;
      case 0x1a:
        prev_kv = KeyValue.read(r, r.length());
        break;
      default:
        checkUnknown(r, tag, 3);
        r.skip(tag);
    }
  }
  return { type, kv, prev_kv };
}

/** mvccpb.Event. */
export const Event: MessageType<Event> = new MessageType(
  "mvccpb.Event",
  {
    type: enumOf(1, EVENT_TYPES),
    kv: message(2, () => KeyValue),
    prev_kv: message(3, () => KeyValue),
  },
  readEvent,
);
