/**
 * Codecs: how the strings etcd stores map to typed values, and a registry
 * that picks a codec by path pattern.
 *
 * @example Usage
 * ```ts
 * import { CodecRegistry, codecs } from "@etcd-tree/etcd-tree/codec";
 * import assert from "node:assert/strict";
 *
 * const registry = new CodecRegistry({
 *   "db/port": codecs.integer,
 *   "services/*\/weight": codecs.number,
 *   "flags/**": codecs.boolean,
 * });
 * assert.equal(registry.lookup("db/port"), codecs.integer);
 * assert.equal(registry.lookup("services/web/weight")?.decode("0.5"), 0.5);
 * assert.equal(registry.lookup("flags/a/b")?.decode("true"), true);
 * assert.equal(registry.lookup("db/host"), undefined);
 * ```
 *
 * @module
 */

/**
 * Turns a stored string into a typed value and back.
 *
 * `decode` throws on text it does not accept; `encode` throws a `TypeError`
 * on a value it cannot store. etcd v3 stores bytes: a codec that takes
 * values that are not UTF-8 text has `decodeBytes` (as `codecs.bytes`
 * does), and may encode to bytes.
 *
 * @typeParam T The type of the decoded values.
 *
 * @example A user codec
 * ```ts
 * import type { Codec } from "@etcd-tree/etcd-tree/codec";
 * import assert from "node:assert/strict";
 *
 * const date: Codec<Date> = {
 *   name: "date",
 *   decode(text) {
 *     const date = new Date(text);
 *     if (Number.isNaN(date.getTime())) throw new TypeError(`Cannot decode "${text}" as a date`);
 *     return date;
 *   },
 *   encode(value) {
 *     return value.toISOString();
 *   },
 * };
 * assert.equal(date.decode("2020-01-02T00:00:00.000Z").getUTCDate(), 2);
 * ```
 */
export interface Codec<T> {
  /** A short name for messages, such as `"integer"`. */
  readonly name: string;
  /**
   * Turns stored text into a value.
   *
   * @param text The stored string.
   * @returns The value.
   */
  decode(text: string): T;
  /**
   * Turns stored bytes that are not UTF-8 text into a value (etcd v3).
   * Without it, such a value does not decode.
   *
   * @param bytes The stored bytes.
   * @returns The value.
   */
  decodeBytes?(bytes: Uint8Array): T;
  /**
   * Turns a value into the string (or, for etcd v3, the bytes) to store.
   *
   * @param value The value.
   * @returns The string or bytes.
   */
  encode(value: T): string | Uint8Array;
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

function refuse(value: unknown, name: string, expected: string): never {
  throw new TypeError(
    `Cannot encode ${describeValue(value)} as ${name}: expected ${expected}`,
  );
}

const INTEGER = /^-?\d+$/;

/**
 * The built-in codecs:
 *
 * - `string`: the text as it is (the default).
 * - `integer`: decimal safe integers such as `-42`.
 * - `number`: finite numbers in JavaScript's syntax, such as `0.5` or `1e3`.
 * - `boolean`: `true` and `false`.
 * - `json`: any JSON text.
 * - `bytes`: the stored bytes as a `Uint8Array`, whatever they are (etcd
 *   v3 stores any bytes; v2 only UTF-8 text).
 *
 * @example Usage
 * ```ts
 * import { codecs } from "@etcd-tree/etcd-tree/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(codecs.integer.decode("5432"), 5432);
 * assert.equal(codecs.json.encode({ a: [1] }), '{"a":[1]}');
 * assert.throws(() => codecs.boolean.decode("yes"), TypeError);
 * ```
 */
export const codecs: {
  readonly string: Codec<string>;
  readonly integer: Codec<number>;
  readonly number: Codec<number>;
  readonly boolean: Codec<boolean>;
  readonly json: Codec<unknown>;
  readonly bytes: Codec<Uint8Array>;
} = {
  string: {
    name: "string",
    decode: (text) => text,
    encode(value) {
      if (typeof value !== "string") refuse(value, "string", "a string");
      return value;
    },
  },
  integer: {
    name: "integer",
    decode(text) {
      const value = Number(text);
      if (!INTEGER.test(text) || !Number.isSafeInteger(value)) {
        throw new TypeError(
          `Cannot decode ${excerpt(text)} as integer: expected decimal digits`,
        );
      }
      return value;
    },
    encode(value) {
      if (!Number.isSafeInteger(value)) {
        refuse(value, "integer", "a safe integer");
      }
      return String(value);
    },
  },
  number: {
    name: "number",
    decode(text) {
      const value = Number(text);
      if (text.trim() !== text || text === "" || !Number.isFinite(value)) {
        throw new TypeError(
          `Cannot decode ${excerpt(text)} as number: expected a finite number`,
        );
      }
      return value;
    },
    encode(value) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        refuse(value, "number", "a finite number");
      }
      return String(value);
    },
  },
  boolean: {
    name: "boolean",
    decode(text) {
      if (text === "true") return true;
      if (text === "false") return false;
      throw new TypeError(
        `Cannot decode ${excerpt(text)} as boolean: expected "true" or "false"`,
      );
    },
    encode(value) {
      if (typeof value !== "boolean") refuse(value, "boolean", "a boolean");
      return value ? "true" : "false";
    },
  },
  json: {
    name: "json",
    decode(text) {
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new TypeError(
          `Cannot decode ${excerpt(text)} as json: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
    },
    encode(value) {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new TypeError(
          `Cannot encode ${describeValue(value)} as json: ${
            error instanceof Error ? error.message : error
          }`,
        );
      }
      if (text === undefined) refuse(value, "json", "a JSON value");
      return text;
    },
  },
  bytes: {
    name: "bytes",
    decode: (text) => new TextEncoder().encode(text),
    decodeBytes: (bytes) => bytes,
    encode(value) {
      if (!(value instanceof Uint8Array)) {
        refuse(value, "bytes", "a Uint8Array");
      }
      return value;
    },
  },
};

/** A pattern compiled to segments; `*` one, `**` any number. */
interface Pattern {
  readonly segments: readonly string[];
  readonly codec: Codec<unknown>;
}

/**
 * Codecs by path pattern. A pattern is a path of segments joined by `/`,
 * where `*` matches any one segment and `**` any number of segments
 * (including none). When several patterns match a path, the first one given
 * wins.
 *
 * @example Usage
 * ```ts
 * import { CodecRegistry, codecs } from "@etcd-tree/etcd-tree/codec";
 * import assert from "node:assert/strict";
 *
 * const registry = new CodecRegistry({ "**\/port": codecs.integer });
 * assert.equal(registry.lookup("db/port")?.decode("5432"), 5432);
 * assert.equal(registry.lookup(["a", "b", "port"]), codecs.integer);
 * ```
 */
export class CodecRegistry {
  readonly #patterns: Pattern[] = [];

  /**
   * Compiles the patterns.
   *
   * @param patterns Codecs by pattern, in order of precedence.
   * @throws {TypeError} When a pattern has an empty segment or a codec is
   *   not one.
   */
  constructor(patterns: Readonly<Record<string, Codec<unknown>>> = {}) {
    for (const [pattern, codec] of Object.entries(patterns)) {
      const segments = pattern.replace(/^\//, "").split("/");
      if (pattern === "" || segments.some((segment) => segment === "")) {
        throw new TypeError(
          `Invalid codec pattern ${
            JSON.stringify(pattern)
          }: use segments joined by "/", with "*" and "**" as wildcards`,
        );
      }
      if (
        typeof codec?.decode !== "function" ||
        typeof codec.encode !== "function"
      ) {
        throw new TypeError(
          `Invalid codec for ${
            JSON.stringify(pattern)
          }: expected an object with decode() and encode()`,
        );
      }
      this.#patterns.push({ segments, codec });
    }
  }

  /** Whether no pattern was given. */
  get empty(): boolean {
    return this.#patterns.length === 0;
  }

  /**
   * Finds the codec for a path.
   *
   * @param path Segments joined by `/`, or the segments.
   * @returns The codec of the first matching pattern, or `undefined`.
   */
  lookup(path: string | readonly string[]): Codec<unknown> | undefined {
    const segments = typeof path === "string"
      ? path.split("/").filter((segment) => segment !== "")
      : path;
    for (const pattern of this.#patterns) {
      if (matches(pattern.segments, 0, segments, 0)) return pattern.codec;
    }
    return undefined;
  }
}

function matches(
  pattern: readonly string[],
  at: number,
  path: readonly string[],
  from: number,
): boolean {
  for (; at < pattern.length; at++, from++) {
    const segment = pattern[at];
    if (segment === "**") {
      for (let skip = from; skip <= path.length; skip++) {
        if (matches(pattern, at + 1, path, skip)) return true;
      }
      return false;
    }
    if (from >= path.length) return false;
    if (segment !== "*" && segment !== path[from]) return false;
  }
  return from === path.length;
}
