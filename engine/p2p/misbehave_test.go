package p2p_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/engine/p2p"
	"github.com/tallyhq/tally/engine/p2p/pb"
)

// A message above the receiver's limit is refused and its sender
// disconnected and banned; what came before it was delivered.
func TestOversizedMessage(t *testing.T) {
	caDir := newCA(t)
	a := newNode(t, "a", loadTLS(t, issue(t, caDir, "a")), func(c *p2p.Config) { c.MaxMsgBytes = 4 << 20 })
	b := newNode(t, "b", loadTLS(t, issue(t, caDir, "b")), func(c *p2p.Config) { c.MaxMsgBytes = 1 << 20 })
	chA, _ := join(t, a, "c", a, b)
	_, boxB := join(t, b, "c", a, b)
	mustOK(t, a.net.Start())
	mustOK(t, b.net.Start())
	connect(t, a, b)

	mustOK(t, chA.Send(b.id, 1, []byte("small")))
	eventually(t, "small message", func() bool { return boxB.count() == 1 })
	mustOK(t, chA.Send(b.id, 1, make([]byte, 2<<20)))
	b.log.waitLog(t, "peer banned", map[string]string{"peer": a.id.Short(), "reason": "too large"})
	eventually(t, "a disconnected", func() bool { return !isConnected(a, b.id) && !isConnected(b, a.id) })
	// a redials and is refused while banned.
	b.log.waitLog(t, "peer refused", map[string]string{"dir": "in", "cause": "banned"})
	if got := boxB.all(); len(got) != 1 || got[0].payload != "small" {
		t.Fatalf("b received %d messages, want only the small one", len(got))
	}
	if s := b.net.Stats(); s.Malformed != 1 || s.Banned != 1 {
		t.Fatalf("b stats %+v, want 1 malformed and 1 banned", s)
	}
	if err := chA.Send(b.id, 1, make([]byte, 4<<20+1)); !errors.Is(err, p2p.ErrTooLarge) {
		t.Fatalf("Send above own limit: %v, want ErrTooLarge", err)
	}
}

// Peers that break the protocol are disconnected and banned: at once for
// garbage and malformed envelopes, after InvalidLimit for messages that are
// well-formed but invalid.
func TestMisbehavingPeers(t *testing.T) {
	caDir := newCA(t)
	const limit = 3
	good := newNode(t, "good", loadTLS(t, issue(t, caDir, "good")), func(c *p2p.Config) { c.InvalidLimit = limit })
	var peers []*node
	for i := range 7 {
		peers = append(peers, &node{name: fmt.Sprintf("bad%d", i), dir: issue(t, caDir, fmt.Sprintf("bad%d", i))})
		peers[i].id = loadTLS(t, peers[i].dir).Self()
	}
	box := &inbox{chain: "c"}
	_, err := good.net.Join("c", append(ids(peers...), good.id), func(from p2p.NodeID, kind uint32, payload []byte) error {
		if kind == 666 {
			return errors.New("kind 666 is never valid")
		}
		return box.handler(from, kind, payload)
	})
	mustOK(t, err)
	mustOK(t, good.net.Start())

	valid := &pb.Envelope{ChainId: "c", Kind: 1, Payload: []byte("ok")}
	cases := []struct {
		name   string
		frames [][]byte
		reason string
	}{
		{"garbage", [][]byte{marshal(valid), {0xff, 0xff, 0xff, 0xff, 0x0f}}, "malformed"},
		{"unknown flow", [][]byte{marshal(valid), marshal(&pb.Envelope{ChainId: "c", Flow: 9})}, "unknown flow"},
		{"no chain id", [][]byte{marshal(valid), marshal(&pb.Envelope{Kind: 1})}, "chain id"},
		{"message with request id", [][]byte{marshal(valid), marshal(&pb.Envelope{ChainId: "c", RequestId: 5})}, "request id"},
		{"handler errors", repeat(marshal(&pb.Envelope{ChainId: "c", Kind: 666}), limit), "kind 666"},
		{"unknown chain", repeat(marshal(&pb.Envelope{ChainId: "nope", Kind: 1}), limit), "unknown chain"},
		{"responses never asked for", repeat(marshal(&pb.Envelope{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 1 << 60}), limit), "never sent"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := peers[i]
			r := dialRaw(t, bad.dir, good.net.Addr())
			before := box.count()
			for _, f := range tc.frames {
				mustOK(t, r.st.SendMsg(f))
			}
			good.log.waitLog(t, "peer banned", map[string]string{"peer": bad.id.Short(), "reason": tc.reason})
			if err := r.drain(); err == nil {
				t.Fatal("the stream stayed open")
			}
			// The reader handles frames in order, so a valid first frame was
			// delivered before the bad one got the peer banned.
			if bytes.Equal(tc.frames[0], marshal(valid)) && box.count() != before+1 {
				t.Fatalf("the valid message before the bad one was not delivered")
			}
			// Banned: a new connection with the same identity is refused.
			if _, err := tryRaw(bad.dir, good.net.Addr()); err == nil {
				t.Fatal("a banned peer was accepted again")
			}
			good.log.waitLog(t, "peer refused", map[string]string{"cause": "banned", "reason": bad.id.Short()})
		})
	}
	if s := good.net.Stats(); s.Banned != uint64(len(cases)) || s.Malformed != 4 || s.HandlerErrors != limit || s.UnknownChain != limit {
		t.Fatalf("stats %+v", s)
	}
	if got := box.count(); got != 4 {
		t.Fatalf("delivered %d valid messages, want 4 (one before each malformed frame)", got)
	}
}

func marshal(env *pb.Envelope) []byte {
	b, err := proto.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

func repeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// rawCodec sends and receives frames as they are, under the proto codec's
// name, so a test can put any bytes on the Connect stream.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}

// rawPeer is a consortium member that writes raw frames on Connect.
type rawPeer struct {
	cc *grpc.ClientConn
	st grpc.ClientStream
}

// dialRaw connects with the node directory's credentials and waits to be accepted.
func dialRaw(t *testing.T, dir, addr string) *rawPeer {
	t.Helper()
	r, err := tryRaw(dir, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cc.Close() })
	return r
}

func tryRaw(dir, addr string) (*rawPeer, error) {
	creds, err := p2p.LoadTLS(dir)
	if err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds.ClientCredentials()))
	if err != nil {
		return nil, err
	}
	desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	st, err := cc.NewStream(context.Background(), desc, pb.Peer_Connect_FullMethodName, grpc.ForceCodec(rawCodec{}))
	if err == nil {
		_, err = st.Header()
	}
	if err != nil {
		cc.Close()
		return nil, err
	}
	return &rawPeer{cc: cc, st: st}, nil
}

// drain reads until the stream ends and returns why it ended.
func (r *rawPeer) drain() error {
	for {
		var b []byte
		if err := r.st.RecvMsg(&b); err != nil {
			return err
		}
	}
}
