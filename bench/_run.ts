// What several benchmarks run the same way: the writers' process, a
// measurement in a fresh process of the bench itself, and quiet tool I/O.

import type { Io } from "../cli/_common.ts";

/** What `_writer.ts` reports: its run time and each write's index and time. */
export interface Writes {
  seconds: number;
  writes: [number, number][];
}

/**
 * Runs `_writer.ts` against `endpoint` in a process of its own (so that its
 * CPU is not the measured process's), with `args` after the prefix.
 */
export async function runWriters(
  endpoint: string,
  prefix: string,
  args: readonly string[],
  api: "v2" | "v3" = "v2",
): Promise<Writes> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env=WRITER_CONCURRENCY,WRITER_API",
      new URL("./_writer.ts", import.meta.url).pathname,
      endpoint,
      prefix,
      ...args,
    ],
    env: { WRITER_API: api },
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`The writer failed: ${output.code}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as Writes;
}

/**
 * Runs the benchmark `script` again in a fresh process with GC exposed and
 * `args`, and returns the one number it prints (heap bytes, say).
 */
export async function measureInChild(
  script: string,
  args: readonly string[],
): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(script).pathname,
      ...args,
    ],
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`Measuring failed: ${output.code}`);
  return Number(new TextDecoder().decode(output.stdout));
}

/** Tool I/O whose output is dropped; stderr is shown if anything came. */
export function quietIo(stdin = ""): Io {
  let stderr = "";
  return {
    stdout: new WritableStream(),
    stderr: new WritableStream({
      write: (chunk) => void (stderr += new TextDecoder().decode(chunk)),
      close: () => {
        if (stderr) console.error(stderr);
      },
    }),
    stdin: new Blob([stdin]).stream(),
    stderrIsTerminal: false,
    env: () => undefined,
  };
}

/** Runs a program and returns its stdout; a missing one says what to install. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args: [...args],
      stdout: "piped",
      stderr: "piped",
      ...options,
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot run ${command}: not installed (install Node.js and npm: apt-get install nodejs npm)`,
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/**
 * A bench-only npm peer (`name@version`) installed on first use into
 * `.tools/<folder>`; returns that folder.
 */
export async function npmPeer(
  folder: string,
  name: string,
  version: string,
): Promise<string> {
  const dir = new URL(`../.tools/${folder}`, import.meta.url).pathname;
  try {
    await Deno.stat(`${dir}/node_modules/${name}/package.json`);
  } catch {
    console.error(`Installing ${name} ${version} into .tools/${folder} ...`);
    await Deno.mkdir(dir, { recursive: true });
    await run("npm", [
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `${name}@${version}`,
    ]);
  }
  return dir;
}

/**
 * Builds the Go peer (`bench/_peer_go/main.go`, etcd's own clientv3) into
 * `.tools/peer-go/peer-go-<hash of the source>` unless built already, and
 * returns the binary's path. Keyed by the source rather than its mtime:
 * worktrees share `.tools`, and each may hold another version. Needs
 * Debian's `golang-go` and `golang-etcd-server-dev` (GOPATH mode, no module
 * downloads).
 */
export async function goPeer(): Promise<string> {
  const source = new URL("./_peer_go/main.go", import.meta.url).pathname;
  const dir = new URL("../.tools/peer-go", import.meta.url).pathname;
  const code = await Deno.readFile(source);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", code))
    .toHex().slice(0, 12);
  const binary = `${dir}/peer-go-${hash}`;
  if (await Deno.stat(binary).catch(() => undefined)) return binary;
  const gocode = "/usr/share/gocode/src/go.etcd.io/etcd/clientv3";
  if (!await Deno.stat(gocode).catch(() => undefined)) {
    throw new Error(
      "The Go peer needs Go and etcd's Go source: apt-get install golang-go golang-etcd-server-dev",
    );
  }
  console.error("Building the Go clientv3 peer into .tools/peer-go ...");
  const src = `${dir}/src/peer-go-${hash}`;
  await Deno.mkdir(src, { recursive: true });
  await Deno.writeFile(`${src}/main.go`, code);
  const output = await new Deno.Command("go", {
    args: ["build", "-o", binary, `peer-go-${hash}`],
    cwd: dir,
    env: {
      GOPATH: `${dir}:/usr/share/gocode`,
      GO111MODULE: "off",
      GOFLAGS: "-mod=mod",
      GOCACHE: `${dir}/cache`,
    },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("go build of bench/_peer_go failed");
  return binary;
}

/**
 * Calls a second of `send(kind, i)` for the scenario `"<kind> x<workers>"`
 * (key `i` cycling through `keys`), for `seconds`.
 */
export async function rate(
  scenario: string,
  keys: number,
  seconds: number,
  send: (kind: string, i: number) => Promise<unknown>,
): Promise<number> {
  const [kind, times] = scenario.split(" x") as [string, string];
  const end = performance.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: Number(times) }, async () => {
      while (performance.now() < end) await send(kind, count++ % keys);
    }),
  );
  return count / seconds;
}
