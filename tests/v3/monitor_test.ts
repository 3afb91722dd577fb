// etcdmon on v3 (etcd 3.5): every change is printed, keys that are not
// UTF-8 or hold "//" too; --json uses v3's names and is exact JSON that a
// terminal cannot obey; plain lines escape invisible characters; --since a
// revision still to come says that it waits.

import assert from "node:assert/strict";
import { main as dump } from "../../cli/dump.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { Client } from "../_v3.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { runMain, testIo } from "../_cli.ts";
import { test, until, within } from "../_wait.ts";

/** What a terminal obeys or hides, raw: controls, bidi, invisible characters. */
const OBEYED = new RegExp(
  "[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e" +
    "\\u2066-\\u2069\\ufeff\\u{e0000}-\\u{e007f}]",
  "u",
);

/** Writes a key with etcdctl, whose key is given in hex (any bytes). */
async function etcdctlPut(etcd: EtcdServer, keyHex: string, value: string) {
  // An argument is bytes (any but NUL), not text: a shell's printf makes
  // them.
  const etcdctl = etcd.binary.replace(/etcd$/, "etcdctl");
  const escaped = keyHex.match(/../g)!.map((byte) => `\\x${byte}`).join("");
  const output = await new Deno.Command("bash", {
    args: [
      "-c",
      `"$0" --endpoints "$1" put "$(printf '${escaped}')" "$2"`,
      etcdctl,
      etcd.endpoint,
      value,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
}

/** Runs etcdmon until it printed `count` lines; its stdout and stderr. */
async function monitorLines(
  args: string[],
  count: number,
  act = async (_stderr: () => string) => {},
) {
  const stop = new AbortController();
  const mon = testIo("", stop.signal);
  const running = monitor(args, mon.io);
  await act(mon.stderr);
  await until(
    () => mon.stdout().split("\n").length > count,
    10_000,
    `${count} lines from etcdmon`,
  ).catch((error) => {
    stop.abort();
    throw new Error(`${error.message}: ${mon.stdout()}${mon.stderr()}`);
  });
  stop.abort();
  assert.equal(await within(running, 10_000, "etcdmon to end"), 0);
  return { lines: mon.stdout().trim().split("\n"), stderr: mon.stderr() };
}

test("etcdmon on v3 prints every change, whatever the key's bytes", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const start = (await client.put("m/seed", "0")).revision + 1;
  const hex = (text: string) => new TextEncoder().encode(text).toHex();
  await etcdctlPut(etcd, hex("m/") + "ff01fe", "binary key"); // not UTF-8
  await etcdctlPut(etcd, hex("m/a//b"), "empty segment");
  await etcdctlPut(etcd, hex("m//lead"), "leading slash");
  await etcdctlPut(etcd, hex("m/dir/"), "trailing slash");
  await etcdctlPut(etcd, hex("m/ok"), "plain");
  const end = (await client.get("m/ok"))!.modRevision;
  const endpoint = ["--endpoints", etcd.endpoint];

  const plain = await monitorLines(
    ["m", "--since", String(start), ...endpoint],
    5,
  );
  assert.deepEqual(plain.lines, [
    `${start} create <3 bytes: ff01fe> "binary key"`,
    `${start + 1} create a//b "empty segment"`,
    `${start + 2} create /lead "leading slash"`,
    `${start + 3} create dir/ "trailing slash"`,
    `${end} create ok "plain"`,
  ]);

  const json = await monitorLines(
    ["m", "--json", "--since", String(start), ...endpoint],
    5,
  );
  const events = json.lines.map((line) => JSON.parse(line));
  assert.deepEqual(events.map((event) => event.revision), [
    start,
    start + 1,
    start + 2,
    start + 3,
    end,
  ]);
  assert.deepEqual(events[0], {
    revision: start,
    type: "PUT",
    path: { "": Uint8Array.of(0xff, 1, 0xfe).toBase64() },
    key: {
      "": new Uint8Array([...new TextEncoder().encode("m/"), 0xff, 1, 0xfe])
        .toBase64(),
    },
    value: "binary key",
    createRevision: start,
    modRevision: start,
    version: 1,
  });
  assert.deepEqual(events.slice(1).map((event) => event.key), [
    "m/a//b",
    "m//lead",
    "m/dir/",
    "m/ok",
  ]);
});

test("etcdmon --json on v3: v3's names, deletes, prevKv and leases", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const lease = await client.lease.grant(60);
  const a = await client.put("n/a", "1", { lease: lease.id });
  const b = await client.put("n/a", "2");
  const c = await client.delete("n/a");
  const { lines } = await monitorLines(
    [
      "n",
      "--json",
      "--prev",
      "--since",
      String(a.revision),
      "--endpoints",
      etcd.endpoint,
    ],
    3,
  );
  const events = lines.map((line) => JSON.parse(line));
  assert.deepEqual(events, [
    {
      revision: a.revision,
      type: "PUT",
      path: "a",
      key: "n/a",
      value: "1",
      createRevision: a.revision,
      modRevision: a.revision,
      version: 1,
      lease: lease.id,
    },
    {
      revision: b.revision,
      type: "PUT",
      path: "a",
      key: "n/a",
      value: "2",
      createRevision: a.revision,
      modRevision: b.revision,
      version: 2,
      prevKv: {
        key: "n/a",
        value: "1",
        createRevision: a.revision,
        modRevision: a.revision,
        version: 1,
        lease: lease.id,
      },
    },
    {
      revision: c.revision,
      type: "DELETE",
      path: "a",
      key: "n/a",
      modRevision: c.revision,
      prevKv: {
        key: "n/a",
        value: "2",
        createRevision: a.revision,
        modRevision: b.revision,
        version: 2,
      },
    },
  ]);
  for (const line of lines) {
    for (const name of ["index", "action", "dir", "createdIndex"]) {
      assert.ok(!(name in JSON.parse(line)), `no v2 name ${name}: ${line}`);
    }
  }
});

test("etcdmon's and etcd2yaml's output cannot be obeyed by a terminal; --json stays exact", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  // C1 controls, bidi overrides and isolates, line separators, zero-width
  // characters, the byte-order mark and tag characters.
  const key = "k\u009b2J\u202e\u2066\u2028\u200b\u200c\u200d\ufeff\u{e0041}";
  const value = "v\u0085\u009d\u202d\u2029\u200d\u{e007f}\u001b[2J";
  const { revision } = await client.put(`t/${key}`, value);
  for (const json of [false, true]) {
    const { lines } = await monitorLines(
      [
        "t",
        ...(json ? ["--json"] : []),
        "--since",
        String(revision),
        "--endpoints",
        etcd.endpoint,
      ],
      1,
    );
    const line = lines[0]!;
    assert.doesNotMatch(line, OBEYED);
    if (json) {
      const event = JSON.parse(line);
      assert.equal(event.path, key);
      assert.equal(event.value, value);
    } else {
      assert.equal(
        line,
        `${revision} create "k\\u009b2J\\u202e\\u2066\\u2028\\u200b\\u200c\\u200d\\ufeff\\udb40\\udc41" "v\\u0085\\u009d\\u202d\\u2029\\u200d\\udb40\\udc7f\\u001b[2J"`,
      );
    }
  }
  // A key etcd2yaml cannot dump (PREFIX/ itself) is named on stderr, escaped.
  await client.put(`t/a/${key}/`, "skipped");
  const dumped = await runMain(dump, [
    `t/a/${key}`,
    "--endpoints",
    etcd.endpoint,
  ]);
  assert.equal(dumped.code, 1, dumped.stderr);
  assert.match(dumped.stderr, /cannot dump "t\/a\/k\\u009b2J.*\/"/);
  assert.doesNotMatch(dumped.stderr, OBEYED);
});

test("etcdmon --since a revision still to come says it waits, then prints it", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const { revision } = await client.put("f/seed", "0");
  const since = revision + 3;
  const { lines, stderr } = await monitorLines(
    ["f", "--since", String(since), "--endpoints", etcd.endpoint],
    1,
    async (stderr) => {
      await until(
        () => stderr().includes("waiting"),
        10_000,
        "etcdmon to say that it waits",
      );
      for (const value of ["1", "2", "3"]) await client.put("f/k", value);
    },
  );
  assert.equal(
    stderr,
    `etcdmon: waiting for revision ${since}: etcd is at revision ${revision}; changes are shown from revision ${since} on, when they happen\n`,
  );
  assert.deepEqual(lines, [`${since} update k "3"`]);
});
