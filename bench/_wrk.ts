// wrk, the raw HTTP ceiling, for the benchmarks.

/**
 * Requests a second that `wrk` makes to `endpoint` with `connections`
 * connections (one thread) for `seconds`, each request made by the Lua
 * `script` (a file); `env` reaches the script through `os.getenv`.
 */
export async function wrkRate(
  endpoint: string,
  script: string,
  connections: number,
  seconds: number,
  env: Record<string, string> = {},
): Promise<number> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${connections}`,
        `-d${seconds}s`,
        "-s",
        script,
        endpoint,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("Cannot run wrk: not installed (apt-get install wrk)");
    }
    throw error;
  }
  const text = new TextDecoder().decode(output.stdout);
  const match = text.match(/Requests\/sec:\s+([\d.]+)/);
  if (!output.success || !match) {
    throw new Error(
      `wrk failed: ${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  if (/Non-2xx/.test(text)) {
    throw new Error(`wrk: etcd refused some requests: ${text}`);
  }
  return Number(match[1]);
}
