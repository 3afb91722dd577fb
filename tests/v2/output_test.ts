// etcd2yaml -o PATH: atomic replacement of regular files, links followed,
// modes kept, FIFOs and devices written into, failures leaving the old file.

import assert from "node:assert/strict";
import { Client } from "../../v2/mod.ts";
import { main as dump } from "../../cli/dump.ts";
import { startEtcd } from "../../testing.ts";
import { dumpBody, runMain, runScript } from "../_cli.ts";
import { test, within } from "../_wait.ts";

/** Fills `prefix` with `count` values of `size` characters. */
async function fill(client: Client, prefix: string, count: number, size = 40) {
  for (let i = 0; i < count; i += 64) {
    await Promise.all(
      Array.from(
        { length: Math.min(64, count - i) },
        (_, j) =>
          client.set(`${prefix}/k${i + j}`, `${i + j}`.padEnd(size, "v")),
      ),
    );
  }
}

async function entries(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

test("etcd2yaml -o", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];
  await client.set("small/a", "1");
  await fill(client, "big", 3000);
  const dir = await Deno.makeTempDir();
  try {
    await t.step(
      "a failure while writing leaves the old file whole",
      async () => {
        const out = `${dir}/keep.yaml`;
        await Deno.writeTextFile(out, "old: content\n");
        // The shell limits file size to 32 KiB: the dump of 3000 keys fails
        // half way through writing.
        const script = new URL("../../cli/dump.ts", import.meta.url).pathname;
        const output = await new Deno.Command("bash", {
          args: [
            "-c",
            `ulimit -f 32; trap '' XFSZ; exec "$0" run -A "$1" /big -o "$2" --api v2 --endpoints "$3"`,
            Deno.execPath(),
            script,
            out,
            etcd.endpoint,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 1, stderr);
        assert.match(
          stderr,
          /^etcd2yaml: Cannot write ".*keep\.yaml": .*large/m,
        );
        assert.equal(await Deno.readTextFile(out), "old: content\n");
        assert.deepEqual(
          await entries(dir),
          ["keep.yaml"],
          "no temporary file",
        );
      },
    );

    await t.step(
      "a reader sees the old file or the whole new one",
      async () => {
        const out = `${dir}/swap.yaml`;
        assert.equal(
          (await runMain(dump, ["/small", "-o", out, ...endpoint])).code,
          0,
        );
        const small = await Deno.readTextFile(out);
        assert.equal(
          (await runMain(dump, ["/big", "-o", out, ...endpoint])).code,
          0,
        );
        const big = await Deno.readTextFile(out);
        let reads = 0;
        let stop = false;
        const reading = (async () => {
          while (!stop) {
            const text = await Deno.readTextFile(out);
            reads++;
            assert.ok(
              text === small || text === big,
              `a partial file of ${text.length} characters`,
            );
          }
        })();
        try {
          for (let i = 0; i < 10; i++) {
            const prefix = i % 2 === 0 ? "/small" : "/big";
            const ran = await runMain(dump, [prefix, "-o", out, ...endpoint]);
            assert.equal(ran.code, 0, ran.stderr);
          }
        } finally {
          stop = true;
          await within(reading, 10_000, "the reader to stop");
        }
        assert.ok(reads > 10, `the reader read ${reads} times`);
      },
    );

    await t.step("a symbolic link is followed and stays a link", async () => {
      const target = `${dir}/target.yaml`;
      const link = `${dir}/link.yaml`;
      await Deno.writeTextFile(target, "old\n");
      await Deno.symlink("target.yaml", link);
      const ran = await runMain(dump, ["/small", "-o", link, ...endpoint]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.ok((await Deno.lstat(link)).isSymlink, "still a link");
      assert.equal(dumpBody(await Deno.readTextFile(target)), 'a: "1"\n');
      // A link to a file that does not exist yet makes that file.
      await Deno.symlink("made.yaml", `${dir}/dangling.yaml`);
      const made = await runMain(dump, [
        "/small",
        "-o",
        `${dir}/dangling.yaml`,
        ...endpoint,
      ]);
      assert.equal(made.code, 0, made.stderr);
      assert.ok((await Deno.lstat(`${dir}/dangling.yaml`)).isSymlink);
      assert.equal(
        dumpBody(await Deno.readTextFile(`${dir}/made.yaml`)),
        'a: "1"\n',
      );
    });

    await t.step(
      "an existing file keeps its mode; a new one gets the default",
      async () => {
        const secret = `${dir}/secret.yaml`;
        await Deno.writeTextFile(secret, "old\n");
        await Deno.chmod(secret, 0o600);
        assert.equal(
          (await runMain(dump, ["/small", "-o", secret, ...endpoint])).code,
          0,
        );
        assert.equal((await Deno.stat(secret)).mode! & 0o777, 0o600);
        const fresh = `${dir}/fresh.yaml`;
        const reference = `${dir}/reference`;
        await Deno.writeTextFile(reference, ""); // the default mode here
        assert.equal(
          (await runMain(dump, ["/small", "-o", fresh, ...endpoint])).code,
          0,
        );
        assert.equal(
          (await Deno.stat(fresh)).mode! & 0o777,
          (await Deno.stat(reference)).mode! & 0o777,
        );
      },
    );

    await t.step("a FIFO is written into, not replaced", async () => {
      const fifo = `${dir}/fifo`;
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success);
      const reader = new Deno.Command("cat", { args: [fifo], stdout: "piped" })
        .output();
      const ran = await within(
        runMain(dump, ["/small", "-o", fifo, ...endpoint]),
        10_000,
        "etcd2yaml to write into the FIFO",
      );
      assert.equal(ran.code, 0, ran.stderr);
      const read = await within(reader, 10_000, "cat to read the FIFO");
      assert.equal(
        dumpBody(new TextDecoder().decode(read.stdout)),
        'a: "1"\n',
      );
      assert.ok((await Deno.lstat(fifo)).isFifo, "still a FIFO");
    });

    await t.step("-o /dev/stdout writes to standard output", async () => {
      const ran = await runScript("dump.ts", [
        "/small",
        "-o",
        "/dev/stdout",
        ...endpoint,
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(dumpBody(ran.stdout), 'a: "1"\n');
      assert.ok((await Deno.lstat("/dev/stdout")).isSymlink, "still a link");
    });

    await t.step(
      "a missing directory is named, not a temporary file",
      async () => {
        const ran = await runMain(dump, [
          "/small",
          "-o",
          `${dir}/no/such/x.yaml`,
          ...endpoint,
        ]);
        assert.equal(ran.code, 1);
        assert.equal(
          ran.stderr,
          `etcd2yaml: Cannot write "${dir}/no/such/x.yaml": the directory "${dir}/no/such" does not exist\n`,
        );
      },
    );

    await t.step(
      "a directory and a loop of links are refused; a dangling link is followed",
      async () => {
        const refused = async (path: string, why: string) => {
          const ran = await runMain(dump, ["/small", "-o", path, ...endpoint]);
          assert.equal(ran.code, 1);
          assert.equal(
            ran.stderr,
            `etcd2yaml: Cannot write ${JSON.stringify(path)}: ${why}\n`,
          );
        };
        await refused(dir, "it is a directory");
        await Deno.writeTextFile(`${dir}/plain`, "");
        const under = await runMain(dump, [
          "/small",
          "-o",
          `${dir}/plain/x.yaml`,
          ...endpoint,
        ]);
        assert.equal(under.code, 1);
        assert.match(
          under.stderr,
          new RegExp(
            `^etcd2yaml: Cannot write "${dir}/plain/x.yaml": Not a directory`,
          ),
        );
        await Deno.symlink(`${dir}/loop-b`, `${dir}/loop-a`);
        await Deno.symlink(`${dir}/loop-a`, `${dir}/loop-b`);
        const looped = await runMain(dump, [
          "/small",
          "-o",
          `${dir}/loop-a`,
          ...endpoint,
        ]);
        assert.equal(looped.code, 1);
        assert.match(
          looped.stderr,
          new RegExp(
            `^etcd2yaml: Cannot write "${dir}/loop-a": .*(symbolic links|loop)`,
          ),
        );
        await Deno.remove(`${dir}/loop-a`);
        await Deno.remove(`${dir}/loop-b`);
        // A chain of links that leads nowhere yet: the file is made at its end.
        await Deno.symlink(`${dir}/made-here.yaml`, `${dir}/via.yaml`);
        const made = await runMain(dump, [
          "/small",
          "-o",
          `${dir}/via.yaml`,
          ...endpoint,
        ]);
        assert.equal(made.code, 0, made.stderr);
        assert.ok((await Deno.lstat(`${dir}/via.yaml`)).isSymlink);
        assert.match(
          await Deno.readTextFile(`${dir}/made-here.yaml`),
          /a: "?1/,
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
