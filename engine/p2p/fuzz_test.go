package p2p

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/engine/p2p/ca"
	"github.com/tallyhq/tally/engine/p2p/pb"
)

// FuzzReceive feeds arbitrary frames through the envelope decoder (the
// protobuf decoding gRPC applies) and the receive path a peer's frames
// take. It checks that nothing panics, that every frame is classified
// (delivered, malformed, or invalid), and that the handler sees exactly the
// well-formed messages of a chain the peer is a member of.
func FuzzReceive(f *testing.F) {
	n, peer := fuzzNetwork(f)
	var handled []*pb.Envelope
	c, err := n.Join("c", []NodeID{n.self, peer}, func(from NodeID, kind uint32, payload []byte) error {
		if from != peer {
			f.Fatalf("handler called for %s", from.Short())
		}
		handled = append(handled, &pb.Envelope{Kind: kind, Payload: payload})
		if kind == 13 {
			return errors.New("kind 13 is invalid")
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	c.HandleRequests(func(_ context.Context, _ NodeID, _ uint32, p []byte) ([]byte, error) { return p, nil })
	if _, err := n.Join("d", []NodeID{n.self}, func(NodeID, uint32, []byte) error {
		f.Fatal("a non-member's message reached the handler")
		return nil
	}); err != nil {
		f.Fatal(err)
	}
	for _, env := range fuzzSeeds() {
		b, _ := proto.Marshal(env)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		var env pb.Envelope
		if proto.Unmarshal(frame, &env) != nil {
			return // gRPC refuses it as Internal before receive; TestMisbehavingPeers covers that
		}
		handled = handled[:0]
		s := n.newSession(peer, "fuzz", false, nil, nil, nil)
		err := n.receive(s, &env)
		checkClassified(t, &env, err, handled, n.cfg.MaxMsgBytes)
	})
}

func checkClassified(t *testing.T, env *pb.Envelope, err error, handled []*pb.Envelope, max int) {
	basic := checkEnvelope(env, max)
	wantHandled := basic == nil && env.ChainId == "c" && env.Flow == pb.Flow_FLOW_MESSAGE
	switch {
	case err == nil, errors.Is(err, ErrInvalidMessage):
		if basic != nil {
			t.Fatalf("accepted a malformed envelope (%v): %v", basic, env)
		}
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge):
		if basic == nil {
			t.Fatalf("well-formed envelope refused as %v: %v", err, env)
		}
	default:
		t.Fatalf("unclassified error %v for %v", err, env)
	}
	if wantHandled != (len(handled) == 1) || len(handled) > 1 {
		t.Fatalf("handler called %d times for %v", len(handled), env)
	}
	if wantHandled && (handled[0].Kind != env.Kind || !bytes.Equal(handled[0].Payload, env.Payload)) {
		t.Fatalf("handler got kind %d %x, sent %d %x", handled[0].Kind, handled[0].Payload, env.Kind, env.Payload)
	}
	if wantHandled && (env.Kind == 13) != errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("handler error not reported: kind %d, err %v", env.Kind, err)
	}
}

func fuzzSeeds() []*pb.Envelope {
	return []*pb.Envelope{
		{ChainId: "c", Kind: 1, Payload: []byte("vote")},
		{ChainId: "c", Kind: 13},
		{ChainId: "c", Flow: pb.Flow_FLOW_REQUEST, RequestId: 9, Payload: []byte("get")},
		{ChainId: "c", Flow: pb.Flow_FLOW_RESPONSE, RequestId: 9, Error: "no"},
		{ChainId: "d", Kind: 1},
		{ChainId: "zzz", Kind: 1},
		{ChainId: "c", Flow: 7},
		{ChainId: "c", Payload: make([]byte, 1025)},
	}
}

// fuzzNetwork is a network that is never started: receive needs its chains,
// counters and queues, not its sockets.
func fuzzNetwork(f *testing.F) (*Network, NodeID) {
	caDir := f.TempDir()
	if _, err := ca.InitCA(caDir); err != nil {
		f.Fatal(err)
	}
	var dirs [2]string
	for i, name := range []string{"self", "peer"} {
		dirs[i] = filepath.Join(f.TempDir(), name)
		if _, err := ca.IssueNode(caDir, dirs[i], name, nil); err != nil {
			f.Fatal(err)
		}
	}
	self, err := LoadTLS(dirs[0])
	if err != nil {
		f.Fatal(err)
	}
	peer, err := LoadTLS(dirs[1])
	if err != nil {
		f.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ListenAddr, cfg.MaxMsgBytes = "127.0.0.1:0", 1024
	n, err := New(cfg, self, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(n.Stop)
	return n, peer.Self()
}
