package p2p

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

func TestQueueDropsOldest(t *testing.T) {
	q := newQueue(3, 100)
	var dropped []string
	push := func(s string) int {
		return q.push(item{env: &pb.Envelope{ChainId: s}, size: len(s) * 10, drop: func() { dropped = append(dropped, s) }})
	}
	for _, s := range []string{"a", "b", "c"} {
		if n := push(s); n != 0 {
			t.Fatalf("push %s dropped %d", s, n)
		}
	}
	if n := push("d"); n != 1 || strings.Join(dropped, "") != "a" {
		t.Fatalf("length bound: dropped %d (%v), want the oldest", n, dropped)
	}
	// b, c, d hold 20+30+10 bytes; 90 more fit only once b and c are gone.
	if n := push("eeeeeeeee"); n != 2 || strings.Join(dropped, "") != "abc" {
		t.Fatalf("byte bound: dropped %d (%v)", n, dropped)
	}
	if msgs, bytes, drops := q.stats(); msgs != 2 || bytes != 100 || drops != 3 {
		t.Fatalf("stats %d msgs %d bytes %d drops", msgs, bytes, drops)
	}
	it, _ := q.pop()
	q.unpop(it)
	for _, want := range []string{"d", "eeeeeeeee"} {
		it, ok := q.pop()
		if !ok || it.env.ChainId != want {
			t.Fatalf("pop = %v %v, want %s", it.env, ok, want)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue")
	}
}

// A message larger than the byte bound still gets through an empty queue
// (Validate keeps QueueBytes >= MaxMsgBytes, but the queue must not spin).
func TestQueueOversizedItem(t *testing.T) {
	q := newQueue(10, 5)
	q.push(item{size: 3})
	if n := q.push(item{size: 9}); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	if msgs, _, _ := q.stats(); msgs != 1 {
		t.Fatalf("%d queued, want 1", msgs)
	}
}

// Compaction must keep order and release the slots it moved out of.
func TestQueueCompaction(t *testing.T) {
	q := newQueue(1000, 1<<20)
	pushed, popped := 0, 0
	for range 50 {
		for range 37 {
			q.push(item{env: &pb.Envelope{Kind: uint32(pushed)}, size: 1})
			pushed++
		}
		for range 30 {
			it, _ := q.pop()
			if int(it.env.Kind) != popped {
				t.Fatalf("popped %d, want %d", it.env.Kind, popped)
			}
			popped++
		}
		for i := len(q.items); i < cap(q.items); i++ {
			if q.items[:cap(q.items)][i].env != nil {
				t.Fatalf("slot %d beyond the queue still holds an envelope", i)
			}
		}
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	b1, b2 := newBackoff(lo, hi, 42), newBackoff(lo, hi, 42)
	for attempt := range 40 {
		step := min(lo<<min(attempt, 20), hi)
		d1, d2 := b1.next(attempt), b2.next(attempt)
		if d1 != d2 {
			t.Fatalf("attempt %d: same seed gave %v and %v", attempt, d1, d2)
		}
		if d1 < step/2 || d1 > step {
			t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d1, step/2, step)
		}
	}
	b3 := newBackoff(lo, hi, 43)
	same := true
	for attempt := range 10 {
		same = same && b3.next(attempt) == newBackoff(lo, hi, 42).next(attempt)
	}
	if same {
		t.Fatal("different seeds gave the same jitter")
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"pinned peer", func(c *Config) { c.Peers = []string{strings.Repeat("ab", 32) + "@10.0.0.1:30300", "h:1"} }, ""},
		{"no listen", func(c *Config) { c.ListenAddr = "" }, "ListenAddr"},
		{"bad peer", func(c *Config) { c.Peers = []string{"nohost"} }, "peer"},
		{"bad peer id", func(c *Config) { c.Peers = []string{"xyz@h:1"} }, "peer"},
		{"zero size", func(c *Config) { c.MaxMsgBytes = 0 }, "MaxMsgBytes"},
		{"queue below message", func(c *Config) { c.QueueBytes = c.MaxMsgBytes - 1 }, "QueueBytes"},
		{"no queue", func(c *Config) { c.QueueLen = 0 }, "QueueLen"},
		{"backoff", func(c *Config) { c.DialBackoffMax = c.DialBackoffMin / 2 }, "DialBackoff"},
		{"keepalive", func(c *Config) { c.KeepaliveInterval = time.Millisecond }, "Keepalive"},
		{"limit", func(c *Config) { c.InvalidLimit = 0 }, "InvalidLimit"},
		{"inflight", func(c *Config) { c.MaxInflightRequests = 0 }, "MaxInflight"},
		{"revalidate", func(c *Config) { c.RevalidateInterval = 0 }, "Revalidate"},
		{"timeouts", func(c *Config) { c.RequestTimeout = 0 }, "RequestTimeout"},
	}
	for _, tc := range cases {
		cfg := DefaultConfig()
		cfg.ListenAddr = "127.0.0.1:0"
		tc.mod(&cfg)
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want ErrConfig naming %s", tc.name, err, tc.want)
		}
	}
}

func TestCheckEnvelope(t *testing.T) {
	long := strings.Repeat("x", MaxChainIDBytes+1)
	cases := []struct {
		name string
		env  *pb.Envelope
		want error
	}{
		{"message", &pb.Envelope{ChainId: "c", Kind: 3, Payload: []byte("p")}, nil},
		{"request", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_REQUEST, RequestId: 1}, nil},
		{"response", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 1, Payload: []byte("p")}, nil},
		{"failed response", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 1, Error: "no"}, nil},
		{"too large", &pb.Envelope{ChainId: "c", Payload: make([]byte, 11)}, ErrTooLarge},
		{"no chain", &pb.Envelope{}, ErrMalformed},
		{"long chain", &pb.Envelope{ChainId: long}, ErrMalformed},
		{"unknown flow", &pb.Envelope{ChainId: "c", Flow: 3}, ErrMalformed},
		{"message with id", &pb.Envelope{ChainId: "c", RequestId: 1}, ErrMalformed},
		{"message with error", &pb.Envelope{ChainId: "c", Error: "x"}, ErrMalformed},
		{"request without id", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_REQUEST}, ErrMalformed},
		{"response without id", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE}, ErrMalformed},
		{"error and payload", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 1, Error: "x", Payload: []byte("p")}, ErrMalformed},
		{"long error", &pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 1, Error: strings.Repeat("e", maxErrorBytes+1)}, ErrMalformed},
	}
	for _, tc := range cases {
		err := checkEnvelope(tc.env, 10)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestTieredPool(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 70000, 1 << 20, 1<<20 + 10, 1<<maxTier + 1} {
		b := pool.Get(n)
		wantCap := max(1<<minTier, 1<<bitsFor(n))
		if len(*b) != n || n <= 1<<maxTier && cap(*b) != wantCap {
			t.Fatalf("Get(%d): len %d cap %d, want cap %d", n, len(*b), cap(*b), wantCap)
		}
		pool.Put(b)
	}
	for _, tc := range []struct{ cap, tier int }{{256, 8}, {512, 9}, {1 << maxTier, maxTier}} {
		if got, ok := tierOfCap(tc.cap); !ok || got != tc.tier {
			t.Errorf("tierOfCap(%d) = %d %v, want %d", tc.cap, got, ok, tc.tier)
		}
	}
	// A buffer of another size would break the tier's promise (cap == 1<<t).
	for _, c := range []int{0, 1, 128, 300, 511, 1<<maxTier + 1, 1 << (maxTier + 1)} {
		if t2, ok := tierOfCap(c); ok {
			t.Errorf("tierOfCap(%d) accepted it into tier %d", c, t2)
		}
	}
}

func bitsFor(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}

func TestCodecRoundTrip(t *testing.T) {
	for _, size := range []int{0, 100, 70000, 3 << 20} {
		in := &pb.Envelope{ChainId: "c", Kind: 9, Payload: bytes.Repeat([]byte{7}, size), Flow: pb.Flow_FLOW_REQUEST, RequestId: 3}
		data, err := codec{}.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out pb.Envelope
		if err := (codec{}).Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		data.Free()
		if !proto.Equal(in, &out) {
			t.Fatalf("size %d: round trip changed the envelope", size)
		}
	}
	if _, err := (codec{}).Marshal("not proto"); err == nil {
		t.Fatal("marshalled a non-proto value")
	}
}
