// Lease IDs in one form: the library gives them as etcdctl prints them, 16
// lowercase hex digits (`%016x`), and `undefined` for "no lease"; it reads
// them in forms that cannot be mistaken for one another. Internal; the rule
// is public in the docs of v3/mod.ts and README.md.

/** The largest lease ID: etcd's IDs are positive int64s. */
const MAX_LEASE_ID = (1n << 63n) - 1n;

/** What a lease ID may be written as, for error messages. */
const FORMS = '16 hex digits as etcdctl prints it ("694d7a2b5c3e1f04"), ' +
  '"0x" and hex ("0x2a"), a decimal of 17 to 19 digits, or a bigint (42n)';

/** A lease ID in the library's form: 16 hex digits. */
export function formatLeaseId(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

/**
 * A lease ID from etcd (a bigint, or a decimal string), in the library's form;
 * `undefined` for etcd's "0", no lease.
 */
export function leaseIdFrom(
  raw: bigint | string | number | undefined,
): string | undefined {
  if (raw === undefined) return undefined;
  const id = BigInt(raw);
  return id === 0n ? undefined : formatLeaseId(id);
}

/**
 * Reads a lease ID given by a user. A string is hex when it has exactly 16
 * hex digits (etcdctl's form) or starts with "0x"; decimal when it has 17
 * to 19 digits (too many for hex); shorter digit strings are refused, since
 * etcdctl would read them as hex. A bigint is the ID itself.
 *
 * @param input The ID.
 * @param what What it is, for the error.
 * @returns The ID.
 * @throws {TypeError} When it is none of these, or outside 1 to 2^63 - 1.
 */
export function parseLeaseId(input: string | bigint, what: string): bigint {
  const invalid = (why: string) =>
    new TypeError(
      `Invalid ${what} ${
        typeof input === "bigint" ? `${input}n` : JSON.stringify(String(input))
      }: ${why}`,
    );
  let id: bigint;
  if (typeof input === "bigint") id = input;
  else if (typeof input !== "string") {
    throw invalid(`expected ${FORMS}`);
  } else if (/^[0-9a-fA-F]{16}$/.test(input)) id = BigInt(`0x${input}`);
  else if (/^0[xX][0-9a-fA-F]+$/.test(input)) id = BigInt(input);
  else if (/^[1-9][0-9]{16,}$/.test(input)) id = BigInt(input);
  else if (/^0+$/.test(input)) id = 0n;
  else if (/^0[0-9]+$/.test(input)) {
    throw invalid(
      `a decimal lease ID has no leading zeros; expected ${FORMS}`,
    );
  } else if (/^[0-9]{1,16}$/.test(input)) {
    throw invalid(
      `hex (as etcdctl reads it) or decimal? Write "0x${input}" for hex, ` +
        `${input}n (a bigint) for decimal`,
    );
  } else throw invalid(`expected ${FORMS}`);
  if (id < 1n || id > MAX_LEASE_ID) {
    throw invalid(
      id === 0n
        ? "0 is no lease; leave the lease out instead"
        : `outside int64: a lease ID is 1 to ${MAX_LEASE_ID}`,
    );
  }
  return id;
}

/** A lease ID given by a user, as the decimal string etcd's JSON takes. */
export function leaseId(input: string | bigint, what: string): string {
  return parseLeaseId(input, what).toString();
}
