// What a careless or hostile user can do with the tools and the client, and
// what must not happen then: data deleted that was never shown, secrets on
// the screen or in the process list, a terminal taken over, a YAML file that
// eats the machine, errors that say nothing.

import assert from "node:assert/strict";
import {
  Client,
  ConnectionFailed,
  errorKind,
  RequestAborted,
  type Value,
} from "../../v2/mod.ts";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { main as view } from "../../cli/view.ts";
import { startEtcd } from "../../testing.ts";
import { dumpBody, runMain, runScript, testIo } from "../_cli.ts";
import { startProxy } from "../_proxy.ts";
import { readFlat } from "../_tree.ts";
import { test, until, within } from "../_wait.ts";

/** Characters a terminal obeys: controls (but newline) and bidi controls. */
// deno-lint-ignore no-control-regex
const OBEYED = new RegExp(
  "[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]",
);

/** Every key and value under `prefix`, read straight from etcd. */
async function held(client: Client, prefix: string) {
  const { nodes } = await readFlat(client, prefix);
  return Object.fromEntries(
    [...nodes].filter(([, node]) => !node.dir).map((
      [path, node],
    ) => [path, node.value]).sort(),
  );
}

/** Whether a key exists, hidden ones included. */
async function exists(client: Client, key: string): Promise<boolean> {
  return await client.get(key).then(() => true, () => false);
}

test("yaml2etcd deletes only what it read", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step("an input with no keys is refused under --replace", async () => {
    for (const key of ["a", "b", "c/d"]) await client.set(`empty/${key}`, "1");
    for (const input of ["", "# only a comment\n", "{}\n"]) {
      const ran = await runMain(
        load,
        ["/empty", "-", "--replace", ...endpoint],
        input,
      );
      assert.equal(ran.code, 1, ran.stderr);
      assert.equal(
        ran.stderr,
        'yaml2etcd: Refusing to replace "/empty" with an input that holds no keys: that would delete all 3 values under it (give --allow-empty to do that)\n',
      );
      assert.deepEqual(await held(client, "empty"), {
        a: "1",
        b: "1",
        "c/d": "1",
      });
    }
    const allowed = await runMain(load, [
      "/empty",
      "-",
      "--replace",
      "--allow-empty",
      ...endpoint,
    ], "");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.deepEqual(await held(client, "empty"), {});
  });

  await t.step(
    "a key written after the plan was read is a conflict and stays",
    async () => {
      await client.set("guard/dir/a", "1");
      await client.set("guard/dir/b", "2");
      await client.set("guard/keep", "k");
      await using proxy = startProxy(etcd.clientPort);
      proxy.holdRequests((line) =>
        line.startsWith("DELETE /v2/keys/guard/dir/")
      );
      const loading = runMain(
        load,
        [
          "/guard",
          "-",
          "--replace",
          "--api",
          "v2",
          "--endpoints",
          proxy.endpoint,
        ],
        "keep: k\n",
      );
      await within(proxy.held, 10_000, "yaml2etcd to send its first delete");
      // Meanwhile, somebody else changes b and adds a key to the directory.
      await client.set("guard/dir/b", "changed");
      await client.set("guard/dir/new", "x");
      proxy.releaseRequests();
      const ran = await within(loading, 10_000, "yaml2etcd to finish");
      assert.equal(ran.code, 1, ran.stderr);
      assert.match(
        ran.stderr,
        /conflict: "\/guard\/dir\/b" changed since it was read/,
      );
      assert.match(
        ran.stderr,
        /conflict: "\/guard\/dir" holds keys the plan did not show .*; left in place/,
      );
      assert.deepEqual(await held(client, "guard"), {
        "dir/b": "changed",
        "dir/new": "x",
        keep: "k",
      });
    },
  );

  await t.step("hidden keys keep their directory", async () => {
    await client.set("hidden/q/visible", "v");
    await client.set("hidden/q/_lock/holder", "me"); // hidden from listings
    await client.set("hidden/value-dir/_x", "y");
    const ran = await runMain(
      load,
      ["/hidden", "-", "--replace", ...endpoint],
      "value-dir: now a value\n",
    );
    assert.equal(ran.code, 1, ran.stderr);
    assert.match(
      ran.stderr,
      /conflict: "\/hidden\/q" holds keys the plan did not show/,
    );
    assert.ok(await exists(client, "hidden/q/_lock/holder"), "the lock stays");
    assert.ok(
      !(await exists(client, "hidden/q/visible")),
      "what the plan listed goes",
    );
    assert.ok(
      await exists(client, "hidden/value-dir/_x"),
      "no directory emptied blindly",
    );
  });

  await t.step("--force still deletes directories whole", async () => {
    await client.set("forced/q/_lock", "me");
    const ran = await runMain(load, [
      "/forced",
      "-",
      "--replace",
      "--force",
      ...endpoint,
    ], "other: 1\n");
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(!(await exists(client, "forced/q/_lock")));
  });
});

test("yaml2etcd refuses what etcd would refuse, before writing", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step("a value over etcd's request limit", async () => {
    const huge = "x".repeat(11 * 1024 * 1024);
    const yaml = `a: "1"\nhuge: ${huge}\nz: "2"\n`;
    const ran = await runMain(load, ["/big", "-", ...endpoint], yaml);
    assert.equal(ran.code, 1);
    assert.match(
      ran.stderr,
      /^yaml2etcd: Cannot load: 1 value makes a request larger than the 10485760 bytes etcd takes: \/big\/huge \(\d+ bytes\); nothing was written \(if the server takes larger requests, give --max-request-bytes\)\n$/,
    );
    assert.deepEqual(await held(client, "big"), {});
    const limited = await runMain(load, [
      "/big",
      "-",
      "--max-request-bytes",
      "100",
      ...endpoint,
    ], `a: ${"y".repeat(200)}\n`);
    assert.equal(limited.code, 1);
    assert.match(
      limited.stderr,
      /larger than the 100 bytes etcd takes: \/big\/a/,
    );
    assert.deepEqual(await held(client, "big"), {});
  });

  await t.step("a value with a lone surrogate", async () => {
    const ran = await runMain(
      load,
      ["/sur", "-", ...endpoint],
      'ok: "1"\nbad: "a\\ud800b"\n',
    );
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /the value of \/sur\/bad holds a lone surrogate/);
    assert.deepEqual(await held(client, "sur"), {});
  });
});

test("yaml2etcd reads YAML safely", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];
  const refused = async (
    yaml: string,
    pattern: RegExp,
    flags: string[] = [],
  ) => {
    const started = performance.now();
    const ran = await within(
      runMain(load, ["/y", "-", ...flags, ...endpoint], yaml),
      20_000,
      "yaml2etcd to refuse the file",
    );
    assert.equal(ran.code, 1, ran.stderr);
    assert.match(ran.stderr, pattern);
    assert.equal(ran.stderr.split("\n").length, 2, "one line");
    assert.ok(performance.now() - started < 10_000, "quickly");
    assert.deepEqual(await held(client, "y"), {});
  };

  await t.step("an alias bomb is refused quickly, with its place", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(
        `${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`,
      );
    }
    const bomb = levels.join("\n") + "\n";
    assert.ok(bomb.length < 1000, `${bomb.length} bytes`);
    await refused(
      bomb,
      /^yaml2etcd: Cannot load <stdin>:\d+:\d+: its aliases expand to more than 100,000 values/,
      ["--arrays"],
    );
  });

  await t.step("a mapping bomb with --arrays too", async () => {
    const levels = [
      'a: &a {x: "1", y: "2", z: "3", w: "4", v: "5", u: "6", t: "7", s: "8", r: "9"}',
    ];
    for (let i = 1; i < 9; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      const pairs = Array.from({ length: 9 }, (_, j) => `k${j}: *${previous}`);
      levels.push(`${name}: &${name} {${pairs.join(", ")}}`);
    }
    const started = performance.now();
    const ran = await runMain(
      load,
      ["/y", "-", "--arrays", ...endpoint],
      levels.join("\n") + "\n",
    );
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /its aliases expand to more than 100,000 values/);
    assert.ok(performance.now() - started < 10_000);
  });

  await t.step("a self-referencing alias", async () => {
    await refused(
      "a: &x\n  b: *x\n",
      /^yaml2etcd: Cannot load <stdin>:2:6: alias \*x refers to a node that contains it\n$/,
    );
  });

  await t.step("nesting deeper than makes sense", async () => {
    const deep = Array.from({ length: 3000 }, (_, i) =>
      " ".repeat(i) + "k:").join("\n") + " v\n";
    await refused(
      deep,
      /^yaml2etcd: Cannot load <stdin>:\d+:\d+: it nests deeper than 256 levels\n$/,
    );
    const flow = "a: " + "{b: ".repeat(3000) + "c" + "}".repeat(3000) + "\n";
    await refused(
      flow,
      /^yaml2etcd: Cannot load <stdin>:1:\d+: it nests deeper than 256 levels\n$/,
    );
  });

  await t.step("an alias to nothing", async () => {
    await refused(
      "a: *nope\n",
      /^yaml2etcd: Cannot load <stdin>:1:4: alias \*nope refers to no anchor\n$/,
    );
  });

  await t.step("several documents", async () => {
    await refused(
      "a: 1\n---\nb: 2\n",
      /^yaml2etcd: Cannot load <stdin>:2:1: it holds several YAML documents; give one per load\n$/,
    );
  });

  await t.step("merge keys merge, explicit keys win", async () => {
    const yaml =
      'base: &b\n  x: "1"\n  y: "2"\nd:\n  <<: *b\n  y: "3"\n"<<": literal\n';
    const ran = await runMain(load, ["/m", "-", ...endpoint], yaml);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(await held(client, "m"), {
      "<<": "literal",
      "base/x": "1",
      "base/y": "2",
      "d/x": "1",
      "d/y": "3",
    });
  });
});

test("etcd2yaml writes what yaml2etcd loads back, byte for byte", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step("keys over 1024 characters", async () => {
    const long = "k".repeat(1100);
    const longer = "é".repeat(1500);
    await client.set(["long", long], "v1");
    await client.set(["long", "d", longer], "v2");
    for (const format of [[], ["--json"]]) {
      const dumped = await runMain(dump, ["/long", ...format, ...endpoint]);
      assert.equal(dumped.code, 0, dumped.stderr);
      const loaded = await runMain(
        load,
        ["/long2", "-", ...endpoint],
        dumped.stdout,
      );
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.deepEqual(await held(client, "long2"), {
        [long]: "v1",
        [`d/${longer}`]: "v2",
      });
      await client.delete("long2", { recursive: true });
    }
  });

  await t.step("a prefix that is one value", async () => {
    await client.set("one", "hello: world");
    const dumped = await runMain(dump, ["/one", ...endpoint]);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.equal(dumpBody(dumped.stdout), '"hello: world"\n');
    const loaded = await runMain(
      load,
      ["/one-copy", "-", ...endpoint],
      dumped.stdout,
    );
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(
      ((await client.get("one-copy")).node as Value).value,
      "hello: world",
    );
    const updated = await runMain(
      load,
      ["/one-copy", "-", ...endpoint],
      "changed\n",
    );
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(
      updated.stdout,
      "created 0, updated 1, deleted 0, unchanged 0, conflicts 0\n",
    );
  });
});

test("human-readable output cannot take over a terminal", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];
  const key = "evil\u001b[2J\rforged\n\u009b31m\u202ekey";
  const value = "v\u001b]0;title\u0007\u009b2J\u202e\u2066x";

  await t.step(
    "etcdmon escapes keys and values; --json stays exact",
    async () => {
      const { etcdIndex } = await client.set("tty/seed", "0");
      await client.set(["tty", key], value);
      for (const json of [false, true]) {
        const stop = new AbortController();
        const { io, stdout } = testIo("", stop.signal);
        const running = monitor(
          [
            "/tty",
            "--since",
            String(etcdIndex + 1),
            ...(json ? ["--json"] : []),
            ...endpoint,
          ],
          io,
        );
        await until(
          () => stdout().includes("\n"),
          10_000,
          "etcdmon to print the change",
        );
        stop.abort();
        assert.equal(await running, 0);
        const line = stdout().split("\n")[0]!;
        assert.doesNotMatch(line, OBEYED);
        if (json) {
          const event = JSON.parse(line);
          assert.equal(event.path, key);
          assert.equal(event.value, value);
        } else {
          assert.doesNotMatch(
            line,
            OBEYED,
          );
          assert.equal(
            line,
            `${
              etcdIndex + 1
            } create "evil\\u001b[2J\\rforged\\n\\u009b31m\\u202ekey" "v\\u001b]0;title\\u0007\\u009b2J\\u202e\\u2066x"`,
          );
        }
      }
    },
  );

  await t.step("yaml2etcd --dry-run and errors escape too", async () => {
    const yaml = `"${JSON.stringify(key).slice(1, -1)}": "${
      JSON.stringify(value).slice(1, -1)
    }"\n`;
    const plan = await runMain(
      load,
      ["/tty2", "-", "--dry-run", ...endpoint],
      yaml,
    );
    assert.equal(plan.code, 0, plan.stderr);
    assert.doesNotMatch(
      plan.stdout,
      OBEYED,
    );
    assert.match(
      plan.stdout,
      /^\+ "\/tty2\/evil\\u001b\[2J\\rforged\\n\\u009b31m\\u202ekey" = /,
    );
    const missing = await runMain(dump, [`/gone${key}`, ...endpoint]);
    assert.equal(missing.code, 1);
    assert.doesNotMatch(
      missing.stderr,
      OBEYED,
    );
  });
});

test("the client's errors say what is wrong and what to do", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("a wait or watch from an index no number holds", async () => {
    for (const waitIndex of [NaN, 2 ** 53, 1e20, Infinity]) {
      assert.throws(
        () => client.watch("a", { waitIndex }),
        (error: Error) =>
          error instanceof RangeError &&
          /Invalid waitIndex/.test(error.message),
      );
      await assert.rejects(client.wait("a", { waitIndex }), RangeError);
    }
    const ran = await runMain(monitor, [
      "/",
      "--since",
      "99999999999999999999",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
    ]);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /^etcdmon: Invalid --since "99999999999999999999": expected an etcd revision/,
    );
  });

  await t.step("a lone surrogate in a key or value names it", async () => {
    await assert.rejects(
      client.set("bad\ud800key", "v"),
      (error: Error) =>
        error instanceof TypeError && /lone surrogate/.test(error.message),
    );
    await assert.rejects(
      client.set("good", "a\udc00"),
      (error: Error) =>
        error instanceof TypeError &&
        /value for "\/good".*lone surrogate/.test(error.message),
    );
  });

  await t.step(
    "a long key works on a new connection; too long is named",
    async () => {
      const key = "k".repeat(5000);
      await using fresh = new Client({ endpoints: etcd.endpoint });
      await fresh.set(["long", key], "v"); // etcd drops such a first request
      assert.equal(
        ((await client.get(["long", key])).node as Value).value,
        "v",
      );
      await using other = new Client({ endpoints: etcd.endpoint });
      const error = await other.set(["long", "x".repeat(2 * 1024 * 1024)], "v")
        .catch((error) => error);
      assert.ok(error instanceof Error);
      assert.match(error.message, /too long for etcd's HTTP server|1 MiB/);
      assert.ok(
        error.message.length < 1000,
        `${error.message.length} characters`,
      );
    },
  );

  await t.step(
    "a write aborted after it was sent may have been applied",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      await using via = new Client({ endpoints: proxy.endpoint });
      await via.get("/"); // a connection to reuse
      proxy.holdAnswers();
      const controller = new AbortController();
      const before = proxy.requests.length;
      const writing = via.set("aborted", "v", { signal: controller.signal })
        .catch((error) => error);
      await within(proxy.requested(before + 1), 5000, "the write sent");
      controller.abort(new Error("gave up"));
      const error = await within(writing, 5000, "the write to reject");
      proxy.passAnswers();
      assert.ok(error instanceof RequestAborted, String(error));
      assert.equal(error.mayHaveBeenApplied, true);
      assert.equal(errorKind(error), "unknown", "nothing to retry");
      assert.equal((error.cause as Error).message, "gave up");
      assert.match(error.message, /may have been applied/);
      // A read aborted keeps the caller's reason.
      const reason = new Error("mine");
      await assert.rejects(
        via.get("a", { signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
    },
  );

  await t.step("an endpoint with a path", () => {
    assert.throws(
      () => new Client({ endpoints: `${etcd.endpoint}/prefix` }),
      /etcd answers at the root of its client URL, not below the path "\/prefix"/,
    );
  });

  await t.step("https:// to a plain-HTTP port", async () => {
    for (const transport of ["sockets", "fetch"] as const) {
      await using tls = new Client({
        endpoints: etcd.endpoint.replace("http:", "https:"),
        transport,
        timeout: 3000,
      });
      const error = await tls.get("a").catch((error) => error);
      assert.ok(error instanceof ConnectionFailed, String(error));
      assert.match(
        error.message,
        /speaks plain HTTP, not TLS: use http:\/\//,
        transport,
      );
    }
  });

  await t.step("TLS settings that hold no certificate", () => {
    assert.throws(
      () =>
        new Client({
          endpoints: "https://127.0.0.1:1",
          tls: { caCert: "not a certificate" },
        }),
      /Invalid tls.caCert: it holds no PEM certificate/,
    );
    assert.throws(
      () => new Client({ endpoints: "http://127.0.0.1:1", tls: {} }),
      /TLS settings were given, but http:\/\/127.0.0.1:1 is http:\/\/ and would not use them/,
    );
  });
});

test("the tools keep credentials off the screen and out of ps", async (t) => {
  await using etcd = await startEtcd();
  await using admin = new Client({ endpoints: etcd.endpoint });
  await admin.auth.users.create("root", "root-secret");
  await admin.auth.users.create("alice", "alice-secret", { roles: ["root"] });
  await admin.set("cred/a", "1");
  await admin.auth.enable();
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step(
    "--user NAME with ETCD_PASSWORD or --password-file",
    async () => {
      const viaEnv = await runScript(
        "dump.ts",
        ["/cred", "--user", "alice", ...endpoint],
        "",
        {
          ETCD_PASSWORD: "alice-secret",
        },
      );
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      assert.equal(dumpBody(viaEnv.stdout), 'a: "1"\n');
      const file = await Deno.makeTempFile();
      try {
        await Deno.writeTextFile(file, "alice-secret\n");
        const viaFile = await runScript("dump.ts", [
          "/cred",
          "--user",
          "alice",
          "--password-file",
          file,
          ...endpoint,
        ]);
        assert.equal(viaFile.code, 0, viaFile.stderr);
        const wrong = await runScript("dump.ts", [
          "/cred",
          "--user",
          "alice",
          ...endpoint,
        ]);
        assert.equal(wrong.code, 2);
        assert.match(
          wrong.stderr,
          /set ETCD_PASSWORD, give --password-file FILE, or run on a terminal to be asked/,
        );
      } finally {
        await Deno.remove(file);
      }
    },
  );

  await t.step("a prompt on a terminal, not echoed", async () => {
    const script = new URL("../../cli/dump.ts", import.meta.url).pathname;
    const child = new Deno.Command("script", {
      args: [
        "-q",
        "-c",
        `${Deno.execPath()} run -A ${script} /cred --user alice --api v2 --endpoints ${etcd.endpoint}`,
        "/dev/null",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    // Answer once the prompt shows.
    let text = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    })();
    await until(
      () => text.includes("Password for alice: "),
      20_000,
      "the password prompt",
    );
    await writer.write(new TextEncoder().encode("alice-secret\r"));
    await within(reading, 30_000, "the prompted dump to finish");
    await writer.close().catch(() => {});
    await child.status;
    await child.stderr.cancel();
    assert.match(text, /Password for alice: /);
    assert.match(text, /a: "1"/);
    assert.doesNotMatch(text, /alice-secret/, "not echoed");
  });

  await t.step("the process list shows no password", async () => {
    const script = new URL("../../cli/monitor.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, "/cred", "--user", "alice", ...endpoint],
      env: { ETCD_PASSWORD: "alice-secret" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let cmdline = "";
      await until(
        async () => {
          cmdline = await Deno.readTextFile(`/proc/${child.pid}/cmdline`)
            .catch(() => "");
          return cmdline.includes("--user");
        },
        5000,
        "the process to start",
      );
      assert.match(cmdline, /--user\0alice/);
      assert.doesNotMatch(cmdline, /secret/);
    } finally {
      child.kill("SIGINT");
      await child.status;
    }
  });

  await t.step(
    "TLS flags with an http:// endpoint, and passwords in URLs",
    async () => {
      const ca = await Deno.makeTempFile();
      try {
        await Deno.writeTextFile(
          ca,
          "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        );
        const plain = await runMain(dump, [
          "/cred",
          "--cacert",
          ca,
          ...endpoint,
        ]);
        assert.equal(plain.code, 2);
        assert.match(
          plain.stderr,
          /^etcd2yaml: Invalid --cacert: the endpoint ".*" is http:\/\/, which would not use TLS; give https:\/\/ endpoints \(or HOST:PORT\)\n/,
        );
        await Deno.writeTextFile(ca, "just text\n");
        const notPem = await runMain(dump, [
          "/cred",
          "--cacert",
          ca,
          "--api",
          "v2",
          "--endpoints",
          "https://127.0.0.1:1",
        ]);
        assert.equal(notPem.code, 2);
        assert.match(notPem.stderr, /holds no PEM certificate/);
      } finally {
        await Deno.remove(ca);
      }
      for (
        const url of [
          "http://u:hunter2@[bad",
          "ftp://u:hunter2@example.com",
          "http://u:hunter2@127.0.0.1:1",
        ]
      ) {
        const ran = await runMain(dump, [
          "/cred",
          "--api",
          "v2",
          "--endpoints",
          url,
        ]);
        assert.equal(ran.code, 2, ran.stderr);
        assert.doesNotMatch(ran.stderr, /hunter2/);
      }
    },
  );
});

test("the viewer's command line", async (t) => {
  await using etcd = await startEtcd();
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  await t.step("a port that is not a plain number", async () => {
    for (const port of ["0x1f90", "8080.5", "1e3", "-1", "65536"]) {
      const ran = await runMain(view, ["/", `--port=${port}`, ...endpoint]);
      assert.equal(ran.code, 2, port);
      assert.match(ran.stderr, /^etcd-tree: Invalid --port /);
    }
    const dashed = await runMain(view, ["/", "--port", "-1", ...endpoint]);
    assert.equal(dashed.code, 2);
    assert.match(
      dashed.stderr,
      /^etcd-tree: Invalid --port: its value starts with "-"/,
    );
  });

  await t.step("a busy port names --port", async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const ran = await runMain(view, [
        "/",
        "--port",
        String(busy.addr.port),
        ...endpoint,
      ]);
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        new RegExp(`--port ${busy.addr.port}\\): the address is in use`),
      );
    } finally {
      busy.close();
    }
  });
});
