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
  /**
   * Holds back what the server sends on the `nth` connection accepted
   * (from 1), keeping it open: to the client, the server has gone quiet on
   * it.
   */
  stall(nth: number): void;
  /** Sends on what `stall(nth)` held back, and whatever comes after. */
  release(nth: number): void;
}

/** Starts a proxy on a free loopback port that forwards to `port`. */
export function startProxy(port: number): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pairs = new Set<[Deno.Conn, Deno.Conn]>();
  const pumps = new Set<Promise<unknown>>();
  let blocked = false;
  let accepted = 0;
  /** Held-back bytes of stalled connections, by number. */
  const stalled = new Map<number, Uint8Array[]>();
  /** Where released connections send held-back bytes, by number. */
  const flushes = new Map<number, () => void>();
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
      const nth = ++accepted;
      const pair: [Deno.Conn, Deno.Conn] = [client, server];
      pairs.add(pair);
      let toClient!: TransformStreamDefaultController<Uint8Array>;
      flushes.set(nth, () => {
        const held = stalled.get(nth) ?? [];
        stalled.delete(nth);
        try {
          for (const chunk of held) toClient.enqueue(chunk);
        } catch {
          // The connection has closed meanwhile.
        }
      });
      const fromServer = new TransformStream<Uint8Array, Uint8Array>({
        start: (controller) => void (toClient = controller),
        transform: (chunk, controller) => {
          const held = stalled.get(nth);
          if (held) held.push(chunk);
          else controller.enqueue(chunk);
        },
      });
      // When either side ends, end both, as a real connection would.
      const pipes = [
        client.readable.pipeTo(server.writable, { preventClose: true }),
        server.readable.pipeThrough(fromServer).pipeTo(client.writable, {
          preventClose: true,
        }),
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
    stall(nth) {
      if (!stalled.has(nth)) stalled.set(nth, []);
    },
    release(nth) {
      flushes.get(nth)?.();
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const pair of [...pairs]) close(pair);
      await Promise.allSettled([...pumps]);
    },
  };
}
