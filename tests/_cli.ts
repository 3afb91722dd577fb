// Running the command-line tools in tests: in-process through main(), and
// as subprocesses through `deno run`.

import type { Io } from "../cli/_common.ts";

/** What a run printed, and its exit code. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): {
  stream: WritableStream<Uint8Array>;
  text: () => string;
} {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
    text: () =>
      new TextDecoder("utf-8", { ignoreBOM: true }).decode(concat(chunks)),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** An Io with captured output, the given stdin and no environment. */
export function testIo(
  stdin = "",
  signal?: AbortSignal,
): { io: Io; stdout: () => string; stderr: () => string } {
  const stdout = collector();
  const stderr = collector();
  const io: Io = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: new Blob([stdin]).stream(),
    stderrIsTerminal: false,
    env: () => undefined,
  };
  if (signal) io.signal = signal;
  return { io, stdout: stdout.text, stderr: stderr.text };
}

/** Runs a tool's main() in this process. */
export async function runMain(
  main: (args: string[], io: Io) => Promise<number>,
  args: string[],
  stdin = "",
): Promise<Ran> {
  const { io, stdout, stderr } = testIo(stdin);
  const code = await main(args, io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/** The `deno run` flags of an entrypoint's shebang line. */
export async function shebangFlags(script: string): Promise<string[]> {
  const path = new URL(`../cli/${script}`, import.meta.url).pathname;
  const first = (await Deno.readTextFile(path)).split("\n", 1)[0]!;
  const match = first.match(/^#!\/usr\/bin\/env -S deno run (.*)$/);
  if (!match) throw new Error(`${script} has no "deno run" shebang`);
  return match[1]!.split(" ");
}

/** Runs an entrypoint with exactly the permissions of its shebang. */
export async function runScript(
  script: string,
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
): Promise<Ran> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...await shebangFlags(script),
      new URL(`../cli/${script}`, import.meta.url).pathname,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/**
 * A dump without its record of where and when it was read (the first line
 * of YAML, the empty name's member of JSON), to compare dumps of different
 * revisions, or with text that has none.
 */
export function dumpBody(text: string): string {
  return text.replace(/^# etcd2yaml: .*\n/, "").replace(
    /^\{\n {2}"": \{[^\n]*\}(,?)\n/,
    (_, comma) => comma === "," ? "{\n" : "{",
  );
}
