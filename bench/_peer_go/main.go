// The Go peer: etcd's own client (clientv3, gRPC), doing the same work as
// bench/v3_bench.ts asks of the others. Prints one JSON object: ops/s per
// scenario, and with a prefix, the milliseconds of one range over it.
// PEER_SCENARIOS (say "range x16,put x1") runs only those scenarios, so
// that etcd's CPU can be read around each.
//
//	peer-go ENDPOINT SECONDS [BIG_PREFIX]
//
// Built by bench/_run.ts (goPeer) from Debian's golang-go and
// golang-etcd-server-dev, in GOPATH mode; bench-only.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

const keys = 100

func key(i int64) string { return fmt.Sprintf("bench/k%d", i%keys) }

func op(client *clientv3.Client, kind string, i int64) error {
	ctx := context.Background()
	if kind == "range" {
		_, err := client.Get(ctx, key(i))
		return err
	}
	_, err := client.Put(ctx, key(i), "v")
	return err
}

func run(client *clientv3.Client, kind string, concurrency int, seconds float64) (float64, error) {
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var count int64
	var failure atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := op(client, kind, atomic.AddInt64(&count, 1)); err != nil {
					failure.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failure.Load().(error); ok {
		return 0, err
	}
	return float64(count) / seconds, nil
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: peer-go ENDPOINT SECONDS [BIG_PREFIX]")
		os.Exit(2)
	}
	seconds, err := strconv.ParseFloat(os.Args[2], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "SECONDS:", err)
		os.Exit(2)
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{os.Args[1]},
		DialTimeout: 5 * time.Second,
		// Big ranges: the default receive limit is 2 GiB in 3.4's client.
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	out := map[string]float64{}
	if len(os.Args) > 3 {
		// One range over a big prefix, after one to warm the connection.
		prefix := os.Args[3]
		if _, err := client.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithLimit(1)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		started := time.Now()
		response, err := client.Get(context.Background(), prefix, clientv3.WithPrefix())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out["big range ms"] = float64(time.Since(started).Microseconds()) / 1000
		out["big range keys"] = float64(len(response.Kvs))
	} else {
		if err := op(client, "range", 0); err != nil { // connect first
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, s := range []struct {
			kind        string
			concurrency int
		}{{"range", 1}, {"put", 1}, {"range", 16}, {"put", 16}} {
			name := fmt.Sprintf("%s x%d", s.kind, s.concurrency)
			if wanted := os.Getenv("PEER_SCENARIOS"); wanted != "" &&
				!strings.Contains(","+wanted+",", ","+name+",") {
				continue
			}
			rate, err := run(client, s.kind, s.concurrency, seconds)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			out[name] = rate
		}
	}
	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}
