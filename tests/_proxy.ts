// A TCP proxy in front of a server, whose connections a test can cut.

/** A running proxy; dispose it to stop it. */
export interface Proxy extends AsyncDisposable {
  /** The proxy's URL, such as `http://127.0.0.1:40000`. */
  readonly endpoint: string;
  /** How many connections are open through it now. */
  readonly open: number;
  /** How many connections it has accepted so far. */
  readonly accepted: number;
  /** Closes every open connection (the listener stays). */
  cut(): void;
  /** Cuts every connection and refuses new ones until `unblock()`. */
  block(): void;
  /** Lets connections through again. */
  unblock(): void;
}

/** Starts a proxy on a free loopback port that forwards to `port`. */
export function startProxy(port: number): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pairs = new Set<[Deno.Conn, Deno.Conn]>();
  const pumps = new Set<Promise<unknown>>();
  let blocked = false;
  let accepted = 0;
  const close = (pair: [Deno.Conn, Deno.Conn]) => {
    if (!pairs.delete(pair)) return;
    for (const conn of pair) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      if (blocked) {
        client.close();
        continue;
      }
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        client.close();
        continue;
      }
      accepted++;
      const pair: [Deno.Conn, Deno.Conn] = [client, server];
      pairs.add(pair);
      // When either side ends, end both, as a real connection would.
      const pipes = [
        client.readable.pipeTo(server.writable, { preventClose: true }),
        server.readable.pipeTo(client.writable, { preventClose: true }),
      ].map((pipe) => pipe.catch(() => {}));
      const pump = Promise.race(pipes).finally(() => close(pair)).then(() =>
        Promise.allSettled(pipes)
      );
      pumps.add(pump);
      pump.finally(() => pumps.delete(pump));
    }
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${listener.addr.port}`,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      for (const pair of [...pairs]) close(pair);
    },
    block() {
      blocked = true;
      for (const pair of [...pairs]) close(pair);
    },
    unblock() {
      blocked = false;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const pair of [...pairs]) close(pair);
      await Promise.allSettled([...pumps]);
    },
  };
}
