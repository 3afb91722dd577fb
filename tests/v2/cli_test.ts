import assert from "node:assert/strict";
import { Client, Value } from "../../v2/mod.ts";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { type Data, toJson, toYaml } from "../../cli/_yaml.ts";
import { fromYaml } from "../../cli/_yaml_read.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { dumpBody, runMain, runScript, shebangFlags, testIo } from "../_cli.ts";
import { delay, readFlat } from "../_tree.ts";
import { test, until, within } from "../_wait.ts";

const TRICKY = `app:
  db:
    host: db.internal
    port: 5432
    ratio: 1.0
    hex: 0x1F
    octal: 0o17
    exp: 1e3
    neg: -7
    inf: .inf
    nan: .NaN
    date: 2001-12-14
    time: 1:20
  flags:
    yes: yes
    no: no
    on: on
    off: OFF
    "true": true
    "false": "false"
    y: y
    tilde: ~
    null: null
    Null: Null
    empty: ""
    nothing:
  text:
    colon: "a: b"
    colon-end: "a:"
    hash: "#not a comment"
    space-hash: "a #b"
    spaced: " lead and trail "
    dash: "- item"
    lone-dash: "-"
    brackets: "[1, 2]"
    braces: "{a: 1}"
    star: "*ref"
    amp: "&anchor"
    bang: "!tag"
    pct: "%x"
    at: "@x"
    backtick: "\`x\`"
    quote: "'single'"
    dquote: '"double"'
    pipe: "|"
    gt: ">"
    question: "? x"
    merge: "<<"
    equals: "="
    tab: "a\\tb"
    cr: "a\\r\\nb"
    control: "bell\\a"
    nel: "x\\Ny"
    bom: "\\uFEFFbom"
    multi: |
      line one
        indented
      line three
    keep: |+
      kept

    strip: |-
      stripped
    folded: >
      folded
      text
    leading-newline: "\\nstarts with newline"
    leading-space-block: "  two spaces\\nsecond"
    trailing-space-line: "a\\n  "
  "unicode ✓ é 日本": "värde ✓ 日本語 🚀"
  "punct % ? # + & = ; , .": "v % ? # + & ="
  "with space": x
  "-dash": "-"
  "1.5": number-like key
  empty-dir: {}
  nested:
    empty: {}
`;

/** Every value of a subtree, for "etcd holds exactly what it held". */
async function state(client: Client, prefix: string) {
  const { nodes } = await readFlat(client, prefix);
  return Object.fromEntries([...nodes].sort());
}

test("YAML writer: every string reads back the same", async () => {
  const strings = [
    "",
    " ",
    "plain",
    "true",
    "yes",
    "No",
    "~",
    "null",
    "1",
    "-1",
    "+1",
    ".5",
    "1_000",
    "0x1F",
    ".inf",
    "-.Inf",
    ".nan",
    "2001-12-14",
    "1:20",
    "a: b",
    "a:",
    "a #b",
    "#a",
    "- a",
    "-",
    "?",
    ":",
    "[",
    "{}",
    "'",
    '"',
    "\\",
    "a\tb",
    "\t",
    "a\nb",
    "a\nb\n",
    "a\nb\n\n",
    "\n",
    "\n\n",
    "\na",
    "  a\nb",
    "a\n  b",
    "a\n ",
    "a\r\nb",
    "\u0007",
    "\u007f",
    "\u0085",
    "\u2028",
    "\ufeff",
    "é✓日本🚀",
    "<<",
    "=",
    "*a",
    "&a",
    "!a",
    "%a",
    "@a",
    "`a`",
    "|",
    ">",
    "a ",
    " a",
  ];
  const data = new Map<string, Data>(
    strings.map((text, i) => [text === "" ? `empty${i}` : text, text]),
  );
  data.set("list", ["a", "true", new Map([["k", "v"]]), []]);
  data.set("empty", new Map());
  for (const text of [toYaml(data), toJson(data)]) {
    const back = await fromYaml(text, "dump", true) as Map<string, Data>;
    for (const [key, value] of data) {
      if (typeof value === "string") {
        assert.equal(
          back.get(key),
          value,
          `${JSON.stringify(key)} in\n${text}`,
        );
      }
    }
    assert.deepEqual(
      back.get("list"),
      new Map<string, Data>([
        ["0", "a"],
        ["1", "true"],
        ["2", new Map([["k", "v"]])],
        ["3", new Map()],
      ]),
    );
    assert.deepEqual(back.get("empty"), new Map());
  }
  assert.equal(toYaml(new Map([["a", "true"]])), 'a: "true"\n');
  assert.equal(toYaml(new Map([["a", "x\ny\n"]])), "a: |\n  x\n  y\n");
});

test("etcd2yaml and yaml2etcd against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step(
    "round trip: load, dump, load elsewhere, dump again",
    async () => {
      const loaded = await runMain(load, ["/rt", "-", ...endpoint], TRICKY);
      assert.equal(loaded.stderr, "");
      assert.equal(loaded.code, 0);
      assert.match(
        loaded.stdout,
        /^created \d+, updated 0, deleted 0, unchanged 0, conflicts 0\n$/,
      );
      // Values are stored as the file spells them.
      const stored = async (key: string) => {
        const { node } = await client.get(key);
        assert.ok(node instanceof Value);
        return node.value;
      };
      assert.equal(await stored("rt/app/db/ratio"), "1.0");
      assert.equal(await stored("rt/app/db/hex"), "0x1F");
      assert.equal(await stored("rt/app/flags/yes"), "yes");
      assert.equal(await stored("rt/app/flags/tilde"), "~");
      assert.equal(await stored("rt/app/flags/nothing"), "");
      assert.equal(await stored("rt/app/text/keep"), "kept\n\n");
      assert.equal(await stored("rt/app/text/folded"), "folded text\n");
      assert.equal(
        await stored("rt/app/unicode ✓ é 日本"),
        "värde ✓ 日本語 🚀",
      );

      const first = await runMain(dump, ["/rt", ...endpoint]);
      assert.equal(first.code, 0);
      assert.deepEqual(
        await fromYaml(first.stdout, "dump", false),
        await fromYaml(TRICKY, "source", false),
      );
      const again = await runMain(
        load,
        ["/rt2", "-", ...endpoint],
        first.stdout,
      );
      assert.equal(again.code, 0);
      const second = await runMain(dump, ["/rt2", ...endpoint]);
      assert.equal(dumpBody(second.stdout), dumpBody(first.stdout));
      // JSON says the same.
      const json = await runMain(dump, ["/rt", "--json", ...endpoint]);
      assert.deepEqual(
        await fromYaml(dumpBody(json.stdout), "json", false),
        await fromYaml(TRICKY, "source", false),
      );
      // Loading the same again changes nothing.
      const noop = await runMain(load, ["/rt", "-", ...endpoint], TRICKY);
      assert.match(
        noop.stdout,
        /^created 0, updated 0, deleted 0, unchanged \d+, conflicts 0/,
      );
    },
  );

  await t.step(
    "--arrays stores sequences as 0, 1, ... and dumps them back",
    async () => {
      const yaml =
        'list:\n  - a\n  - b: c\n  - []\nplain:\n  "0": x\n  "2": y\n';
      const refused = await runMain(load, ["/arr", "-", ...endpoint], yaml);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^yaml2etcd: Cannot load <stdin>:2:3: "list" is a sequence; .*--arrays/,
      );
      assert.equal(refused.stderr.trim().split("\n").length, 1);
      const loaded = await runMain(
        load,
        ["/arr", "-", "--arrays", ...endpoint],
        yaml,
      );
      assert.equal(loaded.code, 0);
      assert.equal(
        (await client.get("arr/list/1/b")).node instanceof Value,
        true,
      );
      const dumped = await runMain(dump, ["/arr", "--arrays", ...endpoint]);
      assert.equal(
        dumpBody(dumped.stdout),
        'list:\n  - a\n  - b: c\n  - {}\nplain:\n  "0": x\n  "2": "y"\n',
      );
    },
  );

  await t.step(
    "--dry-run prints the plan and writes nothing; --replace deletes",
    async () => {
      await client.set("plan/keep", "same");
      await client.set("plan/change", "old");
      await client.set("plan/extra/x", "1");
      await client.set("plan/becomes-dir", "v");
      await client.mkdir("plan/becomes-value");
      const yaml =
        "keep: same\nchange: new\nadded: a\nbecomes-dir:\n  x: 1\nbecomes-value: v\nfresh: {}\n";
      const before = await state(client, "plan");
      const dry = await runMain(
        load,
        ["/plan", "-", "--replace", "--dry-run", ...endpoint],
        yaml,
      );
      assert.equal(dry.code, 0);
      assert.equal(
        dry.stdout,
        [
          '- /plan/becomes-dir (was "v")',
          "- /plan/becomes-value/ (directory with 0 values)",
          "- /plan/extra/ (directory with 1 values)",
          '+ /plan/added = "a"',
          '+ /plan/becomes-dir/x = "1"',
          '+ /plan/becomes-value = "v"',
          '~ /plan/change = "new" (was "old")',
          "+ /plan/fresh/ (empty directory)",
          "plan: create 4, update 1, delete 4, unchanged 1",
          "",
        ].join("\n"),
      );
      assert.deepEqual(await state(client, "plan"), before);
      const done = await runMain(
        load,
        ["/plan", "-", "--replace", ...endpoint],
        yaml,
      );
      assert.equal(done.code, 0, done.stderr);
      assert.equal(
        done.stdout,
        "created 4, updated 1, deleted 4, unchanged 1, conflicts 0\n",
      );
      const dumped = await runMain(dump, ["/plan", ...endpoint]);
      assert.deepEqual(
        await fromYaml(dumped.stdout, "dump", false),
        await fromYaml(yaml, "source", false),
      );
      // Without --replace, extra keys stay.
      await client.set("plan/extra2", "stays");
      await runMain(load, ["/plan", "-", ...endpoint], yaml);
      assert.ok((await client.get("plan/extra2")).node instanceof Value);
    },
  );

  await t.step(
    "a concurrent change is a conflict, not overwritten; --force overwrites",
    async () => {
      const keys = Array.from(
        { length: 1500 },
        (_, i) => `k${String(i).padStart(4, "0")}`,
      );
      for (const key of keys) await client.set(`race/${key}`, "old");
      const yaml = keys.map((key) => `${key}: new`).join("\n") + "\n";
      const last = keys.at(-1)!;
      // As soon as the load writes, someone else changes the last key.
      const { etcdIndex } = await client.get("race");
      const watcher = client.watch("race", {
        recursive: true,
        waitIndex: etcdIndex + 1,
      });
      const meddle = (async () => {
        for await (const _ of watcher) {
          await client.set(`race/${last}`, "theirs");
          break;
        }
      })();
      const ran = await runMain(
        load,
        ["/race", "-", "--concurrency", "1", ...endpoint],
        yaml,
      );
      await meddle;
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        new RegExp(
          `^yaml2etcd: note: <stdin> records no revision.*\\nyaml2etcd: conflict: "/race/${last}" changed since it was read; not written \\(Compare failed`,
        ),
      );
      assert.equal(
        ran.stdout,
        `created 0, updated ${
          keys.length - 1
        }, deleted 0, unchanged 0, conflicts 1\n`,
      );
      const { node } = await client.get(`race/${last}`);
      assert.equal((node as Value).value, "theirs");
      const forced = await runMain(
        load,
        ["/race", "-", "--force", ...endpoint],
        yaml,
      );
      assert.equal(forced.code, 0);
      assert.equal(
        ((await client.get(`race/${last}`)).node as Value).value,
        "new",
      );
    },
  );

  await t.step(
    "the server goes away half way: exit 1, and a re-run finishes",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      const keys = Array.from({ length: 1500 }, (_, i) => `k${i}`);
      const yaml = keys.map((key) => `${key}: v`).join("\n") + "\n";
      const { etcdIndex } = await client.mkdir("half");
      const watcher = client.watch("half", {
        recursive: true,
        waitIndex: etcdIndex + 1,
      });
      const cut = (async () => {
        let seen = 0;
        for await (const _ of watcher) {
          if (++seen === 200) {
            proxy.block();
            break;
          }
        }
      })();
      const ran = await runMain(
        load,
        [
          "/half",
          "-",
          "--concurrency",
          "4",
          "--api",
          "v2",
          "--endpoints",
          proxy.endpoint,
        ],
        yaml,
      );
      await cut;
      assert.equal(ran.code, 1);
      const stopped =
        /^yaml2etcd: Stopped loading "\/half" after (\d+) of 1500 writes(?: \(and (\d+) more that may have been applied\))?: Cannot reach etcd .*; run it again to finish\n$/
          .exec(ran.stderr);
      assert.ok(stopped, ran.stderr);
      // What it says it wrote is what etcd holds, give or take the writes
      // it says may have been applied.
      const applied = Number(stopped[1]);
      const uncertain = Number(stopped[2] ?? 0);
      const held = (await readFlat(client, "half")).nodes.size - 1;
      assert.ok(
        held >= applied && held <= applied + uncertain,
        `etcd holds ${held}; said ${applied} written and ${uncertain} uncertain`,
      );
      proxy.unblock();
      const rerun = await runMain(load, [
        "/half",
        "-",
        "--api",
        "v2",
        "--endpoints",
        proxy.endpoint,
      ], yaml);
      assert.equal(rerun.code, 0, rerun.stderr);
      const { nodes } = await readFlat(client, "half");
      assert.equal(nodes.size, 1 + keys.length);
    },
  );

  await t.step(
    "bad input: one line, the right exit code, nothing written",
    async () => {
      await client.set("bad/keep", "1");
      const before = await state(client, "bad");
      const cases: [string[], string, number, RegExp][] = [
        [
          ["/bad", "-"],
          "a: [1,\nb",
          1,
          /^yaml2etcd: Cannot parse <stdin>:2:1: /,
        ],
        [
          ["/bad", "-"],
          "a: 1\na: 2\n",
          1,
          /^yaml2etcd: Cannot parse <stdin>:2:1: Map keys must be unique/,
        ],
        [
          ["/bad", "-"],
          "- a\n- b\n",
          1,
          /^yaml2etcd: Cannot load <stdin>: expected a mapping \(or one value\) at the top/,
        ],
        [
          ["/bad", "-"],
          "a:\n  /c: 1\n",
          1,
          /^yaml2etcd: Cannot load into "\/bad": "?a\/\/c"? has an empty segment, "." or "..", which etcd's v2 API does not keep as given \(use --api v3\); nothing was written/,
        ],
        [
          ["/bad", "-"],
          "a:\n  _hidden: 1\n",
          1,
          /^yaml2etcd: Cannot load into "\/bad": a\/_hidden starts with "_", which etcd's v2 API hides from listings.*nothing was written/,
        ],
        [
          ["/bad", "-"],
          "? [a]\n: 1\n",
          1,
          /^yaml2etcd: Cannot load <stdin>:1:3: a key under "" is not a string/,
        ],
        [
          ["/bad", "/no/such/file.yaml"],
          "",
          1,
          /^yaml2etcd: Cannot read "\/no\/such\/file.yaml": /,
        ],
        [
          ["/bad", "-", "--bogus"],
          "",
          2,
          /^yaml2etcd: Unknown option '--bogus'/,
        ],
        [
          ["/bad", "-", "--concurrency", "0"],
          "",
          2,
          /^yaml2etcd: Invalid --concurrency "0"/,
        ],
        [[], "", 2, /^yaml2etcd: Missing PREFIX/],
        [["/a/../b", "-"], "", 2, /^yaml2etcd: Invalid PREFIX "\/a\/..\/b"/],
      ];
      for (const [args, stdin, code, pattern] of cases) {
        const ran = await runMain(load, [...args, ...endpoint], stdin);
        assert.equal(ran.code, code, `${args.join(" ")}: ${ran.stderr}`);
        assert.match(ran.stderr, pattern);
        assert.equal(ran.stdout, "");
        const lines = ran.stderr.trimEnd().split("\n");
        assert.ok(
          lines.length === 1 || (code === 2 && lines.length === 2),
          ran.stderr,
        );
        assert.doesNotMatch(ran.stderr, / {4}at /, "no stack trace");
      }
      assert.deepEqual(await state(client, "bad"), before);

      const unreachable = await runMain(dump, [
        "/bad",
        "--api",
        "v2",
        "--endpoints",
        "http://127.0.0.1:9",
      ]);
      assert.equal(unreachable.code, 1);
      assert.match(
        unreachable.stderr,
        /^etcd2yaml: Cannot reach etcd for GET \/v2\/keys\/bad: http:\/\/127\.0\.0\.1:9: .*\n$/,
      );
      const badFlag = await runMain(dump, [
        "/bad",
        "--timeout",
        "soon",
        ...endpoint,
      ]);
      assert.equal(badFlag.code, 2);
      assert.match(badFlag.stderr, /^etcd2yaml: Invalid --timeout "soon"/);
      // Credentials never show, whatever fails.
      const secret = await runMain(dump, [
        "/bad",
        "--user",
        "alice:s3cret-pw",
        "--api",
        "v2",
        "--endpoints",
        "http://127.0.0.1:9",
      ]);
      assert.equal(secret.code, 1);
      assert.doesNotMatch(secret.stderr + secret.stdout, /s3cret-pw/);
      const noPassword = await runMain(dump, [
        "/bad",
        "--user",
        "alice",
        ...endpoint,
      ]);
      assert.equal(noPassword.code, 2);
      assert.match(
        noPassword.stderr,
        /^etcd2yaml: Invalid --user: no password for "alice"; set ETCD_PASSWORD, give --password-file FILE, or run on a terminal to be asked\n/,
      );
      const noCa = await runMain(dump, [
        "/bad",
        "--cacert",
        "/no/such/ca.pem",
        ...endpoint,
      ]);
      assert.equal(noCa.code, 2);
      assert.match(
        noCa.stderr,
        /^etcd2yaml: Cannot read --cacert "\/no\/such\/ca.pem": /,
      );
      const halfTls = await runMain(dump, [
        "/bad",
        "--cert",
        "c.pem",
        ...endpoint,
      ]);
      assert.equal(halfTls.code, 2);
      assert.match(
        halfTls.stderr,
        /^etcd2yaml: Invalid --cert\/--key: give both or neither/,
      );
      const missing = await runMain(dump, ["/nothing-here", ...endpoint]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^etcd2yaml: Cannot dump "\/nothing-here": it does not exist/,
      );
    },
  );

  await t.step(
    "v2: a dump records its etcd index; loading it back keeps what changed since",
    async () => {
      await client.set("since/a", "1");
      await client.set("since/b", "1");
      const dumped = await runMain(dump, ["/since", ...endpoint]);
      const index = Number(
        /^# etcd2yaml: "\/since" at index (\d+)\n/.exec(dumped.stdout)?.[1],
      );
      assert.ok(index >= (await client.get("since/b")).node.modifiedIndex);
      await client.set("since/a", "theirs");
      const edited = dumped.stdout.replace('a: "1"', "a: mine")
        .replace('b: "1"', "b: mine");
      const ran = await runMain(load, ["/since", "-", ...endpoint], edited);
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /^yaml2etcd: conflict: "\/since\/a" changed at index \d+, after the dump \(index \d+\): etcd holds "theirs", the file has "mine"; not written/,
      );
      assert.equal(
        ((await client.get("since/a")).node as Value).value,
        "theirs",
      );
      assert.equal(((await client.get("since/b")).node as Value).value, "mine");
      const forced = await runMain(
        load,
        ["/since", "-", "--force", ...endpoint],
        edited,
      );
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(((await client.get("since/a")).node as Value).value, "mine");
    },
  );

  await t.step(
    "-o writes atomically; an unwritable path fails and leaves nothing",
    async () => {
      const dir = await Deno.makeTempDir();
      try {
        const out = `${dir}/bad.yaml`;
        const written = await runMain(dump, ["/bad", "-o", out, ...endpoint]);
        assert.equal(written.code, 0);
        assert.equal(written.stdout, "");
        assert.equal(dumpBody(await Deno.readTextFile(out)), 'keep: "1"\n');
        const failed = await runMain(dump, [
          "/bad",
          "-o",
          `${dir}/no/such/dir/x.yaml`,
          ...endpoint,
        ]);
        assert.equal(failed.code, 1);
        assert.match(
          failed.stderr,
          /^etcd2yaml: Cannot write ".*\/no\/such\/dir\/x.yaml": /,
        );
        // A failed dump does not touch an existing file.
        const gone = await runMain(dump, [
          "/nothing-here",
          "-o",
          out,
          ...endpoint,
        ]);
        assert.equal(gone.code, 1);
        assert.equal(dumpBody(await Deno.readTextFile(out)), 'keep: "1"\n');
        const entries = [];
        for await (const entry of Deno.readDir(dir)) entries.push(entry.name);
        assert.deepEqual(entries, ["bad.yaml"], "no temporary file left");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );

  await t.step("each entrypoint runs with deno run", async () => {
    for (
      const [script, name] of [["dump.ts", "etcd2yaml"], [
        "load.ts",
        "yaml2etcd",
      ], ["monitor.ts", "etcdmon"]]
    ) {
      const version = await runScript(script!, ["--version"]);
      assert.equal(version.code, 0);
      assert.match(
        version.stdout,
        new RegExp(`^${name} \\d+\\.\\d+\\.\\d+\\n$`),
      );
      const help = await runScript(script!, ["--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: ${name} `));
      const usage = await runScript(script!, ["--nope"]);
      assert.equal(usage.code, 2);
      assert.match(
        usage.stderr,
        new RegExp(`^${name}: Unknown option '--nope'`),
      );
    }
    const loaded = await runScript(
      "load.ts",
      ["/sub", "-", ...endpoint],
      "a:\n  b: 1\n",
    );
    assert.equal(loaded.code, 0, loaded.stderr);
    const dumped = await runScript("dump.ts", ["/sub", ...endpoint]);
    assert.equal(dumped.code, 0);
    assert.equal(dumpBody(dumped.stdout), 'a:\n  b: "1"\n');
    // YAML beyond the simple part is read by npm:yaml, imported on demand.
    const block = await runScript(
      "load.ts",
      ["/sub-block", "-", ...endpoint],
      "c: |\n  two\n  lines\n",
    );
    assert.equal(block.code, 0, block.stderr);
    assert.equal(
      dumpBody(
        (await runScript("dump.ts", ["/sub-block", ...endpoint])).stdout,
      ),
      "c: |\n  two\n  lines\n",
    );
    const env = await runScript(
      "dump.ts",
      ["/sub", "--json", "--api", "v2"],
      "",
      {
        ETCD_ENDPOINTS: etcd.endpoint,
      },
    );
    assert.equal(env.code, 0, env.stderr);
    assert.equal(dumpBody(env.stdout), '{\n  "a": {\n    "b": "1"\n  }\n}\n');
  });
});

test("etcdmon against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  const watchers = async () => (await client.stats.store()).watchers;

  /**
   * Runs etcdmon in-process until exactly `lines` lines came (failing if
   * they do not come in time); `act` gets what it printed so far.
   */
  async function watchLines(
    args: string[],
    lines: number,
    act: (printed: () => string[]) => Promise<void>,
  ) {
    const stop = new AbortController();
    const { io, stdout, stderr } = testIo("", stop.signal);
    const printed = () => stdout().split("\n").slice(0, -1);
    const before = await watchers();
    const running = monitor(args, io);
    // etcd counts etcdmon's watch once it has registered it.
    await until(
      async () => await watchers() > before,
      10_000,
      "etcdmon to start watching",
    );
    await act(printed);
    await until(
      () => printed().length >= lines,
      20_000,
      `etcdmon to print ${lines} lines (printed ${printed().length}: ${
        JSON.stringify(printed())
      })`,
    );
    stop.abort();
    const code = await within(running, 10_000, "etcdmon to end on abort");
    const out = printed();
    assert.equal(
      out.length,
      lines,
      `exactly ${lines} lines: ${out.join("\n")}`,
    );
    return { code, out, err: stderr() };
  }

  await t.step(
    "one line per change: index, action, relative key, value",
    async () => {
      const { code, out, err } = await watchLines(
        ["/mon", "--api", "v2", "--endpoints", etcd.endpoint],
        5,
        async () => {
          await client.set("mon/a", "1");
          await client.set("mon/a", "two words");
          await client.mkdir("mon/d");
          await client.delete("mon/a");
          await client.set("mon/t", "x", { ttl: 1 });
        },
      );
      assert.equal(code, 0, err);
      assert.deepEqual(
        out.map((line) => line.replace(/^\d+ /, "")),
        [
          'create a "1"',
          'update a "two words"',
          "create d/",
          'delete a "two words"',
          'create t "x"',
        ],
      );
      const indices = out.map((line) => Number(line.split(" ")[0]));
      assert.deepEqual(indices, [...indices].sort((a, b) => a - b));
    },
  );

  await t.step("--json and --since", async () => {
    const first = await client.set("json/a", "1");
    await client.set("json/a", "2");
    const timed = await client.set("json/t", "x", { ttl: 600 });
    const { code, out } = await watchLines(
      [
        "/json",
        "--json",
        "--since",
        String(first.index),
        "--api",
        "v2",
        "--endpoints",
        etcd.endpoint,
      ],
      3,
      async () => {},
    );
    assert.equal(code, 0);
    const events = out.map((line) => JSON.parse(line));
    assert.equal(events[2].index, timed.index);
    const expires = Date.parse(events[2].expiration);
    assert.ok(
      Math.abs(expires - (Date.now() + 600_000)) < 10_000,
      events[2].expiration,
    );
    assert.deepEqual(events[0], {
      index: first.index,
      action: "create",
      key: "/json/a",
      path: "a",
      dir: false,
      value: "1",
      createdIndex: first.index,
      modifiedIndex: first.index,
    });
    assert.equal(events[1].action, "update");
    assert.equal(events[1].prevValue, "1");
    assert.equal(events[1].value, "2");
  });

  await t.step("history loss: a resync line, then it goes on", async () => {
    await using proxy = startProxy(etcd.clientPort);
    const { code, out } = await watchLines(
      ["/lost", "--api", "v2", "--endpoints", proxy.endpoint],
      3,
      async (printed) => {
        await client.set("lost/first", "1");
        await until(() => printed().length === 1, 10_000, "the first line");
        proxy.block();
        for (let i = 0; i < 1100; i++) await client.set("lost/spam", String(i));
        proxy.unblock();
        await until(
          () => printed().some((line) => line.startsWith("resync: ")),
          20_000,
          "etcdmon to reconnect and re-read",
        );
        await client.set("lost/after", "x");
      },
    );
    assert.equal(code, 0);
    assert.match(out[0]!, /^\d+ create first "1"$/);
    const resync = out.findIndex((line) => line.startsWith("resync: "));
    assert.ok(resync > 0, out.join("\n"));
    assert.match(
      out[resync]!,
      /^resync: etcd no longer has the changes after index \d+; going on from a fresh read at index \d+$/,
    );
    assert.match(out.at(-1)!, /^\d+ create after "x"$/);
  });

  await t.step("Ctrl-C ends the process with exit status 0", async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...await shebangFlags("monitor.ts"),
        new URL("../../cli/monitor.ts", import.meta.url).pathname,
        "/sig",
        "--api",
        "v2",
        "--endpoints",
        etcd.endpoint,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let seen = "";
    let pending = reader.read();
    for (let i = 0; i < 50 && !seen.includes("\n"); i++) {
      await client.set("sig/x", String(i));
      const next = await Promise.race([
        pending,
        delay(200).then(() => undefined),
      ]);
      if (next !== undefined) {
        seen += next.value ?? "";
        pending = reader.read();
      }
    }
    assert.match(seen, /^\d+ (create|update) x "\d+"\n/);
    child.kill("SIGINT");
    const status = await child.status;
    pending.catch(() => {}); // a read still waits: cancelling ends it
    await reader.cancel().catch(() => {});
    const stderr = new TextDecoder().decode(
      await new Response(child.stderr).bytes(),
    );
    assert.equal(status.code, 0, stderr);
    assert.equal(stderr, "");
  });
});

test("a server without the v2 API: one clear line, exit 1", async () => {
  await using etcd = await startEtcd({ enableV2: false });
  for (const [main, args] of [[dump, ["/x"]], [load, ["/x", "-"]]] as const) {
    const ran = await runMain(
      main,
      [...args, "--api", "v2", "--endpoints", etcd.endpoint],
      "a: 1\n",
    );
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /^(etcd2yaml|yaml2etcd): .*v2.*\n$/i);
  }
});
