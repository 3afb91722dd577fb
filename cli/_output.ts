// Writing a tool's output to a file the user named (`-o PATH`). Internal.
//
// A regular file is replaced atomically: the text goes to a temporary file
// beside it, is flushed to disk, and is renamed over it, so that a reader
// sees the old file or the whole new one and a failure leaves the old one.
// The replacement keeps the old file's permission bits. A symbolic link is
// followed, so the file it points to is replaced and the link stays. A FIFO,
// a terminal or a device (`/dev/stdout`) is written directly: renaming over
// it would replace it with a regular file.

import { basename, dirname, join, resolve } from "node:path";
import { Failure } from "./_common.ts";

/** Writes `text` to `path` as described above. */
export async function writeOutput(path: string, text: string): Promise<void> {
  const fail = (why: string, cause?: unknown): never => {
    throw new Failure(`Cannot write ${JSON.stringify(path)}: ${why}`, {
      cause,
    });
  };
  const bytes = new TextEncoder().encode(text);
  let info: Deno.FileInfo | undefined; // of what the path leads to
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) fail(messageOf(error), error);
  }
  if (info?.isDirectory) fail("it is a directory");
  if (info !== undefined && !info.isFile) {
    // A FIFO, a terminal, a device: write into it.
    try {
      await Deno.writeFile(path, bytes, { create: false });
    } catch (error) {
      fail(messageOf(error), error);
    }
    return;
  }
  // The file to replace or create: a symbolic link's target, not the link.
  const target = info === undefined
    ? await danglingTarget(path).catch((error) => fail(messageOf(error), error))
    : await Deno.realPath(path);
  const directory = dirname(target);
  if (!(await Deno.stat(directory).then((d) => d.isDirectory, () => false))) {
    fail(`the directory ${JSON.stringify(dirname(path))} does not exist`);
  }
  const temporary = join(
    directory,
    `.${basename(target)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  try {
    // A new file gets the default mode (0666 less the umask); a replaced
    // one keeps its own, whatever the umask says.
    using file = await Deno.open(temporary, { write: true, createNew: true });
    if (info?.mode != null) await Deno.chmod(temporary, info.mode & 0o7777);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.syncData();
    await Deno.rename(temporary, target);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    fail(messageOf(error), error);
  }
}

/** Where a path that does not exist yet would be made: a dangling link's target. */
async function danglingTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return current;
      throw error;
    }
    if (!info.isSymlink) return current;
    current = resolve(dirname(current), await Deno.readLink(current));
  }
  throw new Error("too many levels of symbolic links");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
