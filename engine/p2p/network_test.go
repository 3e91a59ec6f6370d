package p2p_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/tallyhq/tally/engine/p2p"
)

// Two nodes that both dial each other keep exactly one connection, the one
// dialed by the lower id, and exchange Send and Broadcast traffic in order.
func TestTwoNodes(t *testing.T) {
	caDir := newCA(t)
	a := startNode(t, "a", issue(t, caDir, "a"), nil)
	b := startNode(t, "b", issue(t, caDir, "b"), nil)
	chA, boxA := join(t, a, "c1", a, b)
	chB, boxB := join(t, b, "c1", a, b)
	for _, p := range []struct{ from, to *node }{{a, b}, {b, a}} {
		if err := p.from.net.AddPeer(p.to.net.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	waitConnected(t, a, b)
	checkOneConnection(t, a, b)

	const n = 200
	for i := range n {
		mustOK(t, chA.Send(b.id, 7, fmt.Appendf(nil, "a%d", i)))
		mustOK(t, chB.Broadcast(8, fmt.Appendf(nil, "b%d", i)))
	}
	eventually(t, "all messages", func() bool { return boxA.count() == n && boxB.count() == n })
	checkOrder(t, boxB.all(), a.id, 7, "a")
	checkOrder(t, boxA.all(), b.id, 8, "b")
	if got := chA.Peers(); len(got) != 1 || got[0] != b.id {
		t.Fatalf("a's chain peers = %v, want [b]", got)
	}
	if err := chA.Send(a.id, 1, nil); !errors.Is(err, p2p.ErrSelf) {
		t.Fatalf("send to self: %v, want ErrSelf", err)
	}
}

// checkOneConnection checks the duplicate rule from both ends: one
// connection each way, dialed by the lower node id.
func checkOneConnection(t *testing.T, a, b *node) {
	t.Helper()
	lowerA := bytes.Compare(a.id[:], b.id[:]) < 0
	eventually(t, "one connection dialed by the lower id", func() bool {
		pa, pb := a.net.Connected(), b.net.Connected()
		return len(pa) == 1 && len(pb) == 1 && pa[0].Outbound == lowerA && pb[0].Outbound == !lowerA
	})
}

func checkOrder(t *testing.T, got []msg, from p2p.NodeID, kind uint32, prefix string) {
	t.Helper()
	for i, m := range got {
		want := fmt.Sprintf("%s%d", prefix, i)
		if m.from != from || m.kind != kind || m.payload != want {
			t.Fatalf("message %d = %+v, want %s kind %d from %s", i, m, want, kind, from.Short())
		}
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Four nodes, full mesh, two chains with different members: x = {a,b,c},
// y = {b,c,d}. Node d wrongly believes it is in x. Every member gets every
// other member's broadcasts on its chains; no node gets a message of a chain
// it is not a member of — the sender filters, and the receiver drops what a
// misconfigured sender sends anyway.
func TestFourNodesTwoChains(t *testing.T) {
	caDir := newCA(t)
	names := []string{"a", "b", "c", "d"}
	ns := make([]*node, len(names))
	for i, name := range names {
		ns[i] = newNode(t, name, loadTLS(t, issue(t, caDir, name)), nil)
	}
	a, b, c, d := ns[0], ns[1], ns[2], ns[3]
	x, y := []*node{a, b, c}, []*node{b, c, d}
	chains := map[*node]map[string]*p2p.ChainHandle{}
	boxes := map[*node]map[string]*inbox{}
	for _, n := range ns {
		chains[n], boxes[n] = map[string]*p2p.ChainHandle{}, map[string]*inbox{}
	}
	for _, n := range x {
		chains[n]["x"], boxes[n]["x"] = join(t, n, "x", x...)
	}
	for _, n := range y {
		chains[n]["y"], boxes[n]["y"] = join(t, n, "y", y...)
	}
	chains[d]["x"], boxes[d]["x"] = join(t, d, "x", a, b, c, d) // d's wrong view
	startMesh(t, ns)

	const rounds = 50
	for i := range rounds {
		for _, n := range ns {
			for name, ch := range chains[n] {
				mustOK(t, ch.Broadcast(1, fmt.Appendf(nil, "%s-%s-%d", name, n.name, i)))
			}
		}
	}
	// Each member of x and y hears rounds messages from each other member.
	want := map[*node]map[string]int{a: {"x": 2}, b: {"x": 2, "y": 2}, c: {"x": 2, "y": 2}, d: {"y": 2}}
	for n, chs := range want {
		for ch, peers := range chs {
			box := boxes[n][ch]
			eventually(t, n.name+" hears "+ch, func() bool { return box.count() >= peers*rounds })
		}
	}
	// d's broadcasts on x reached a, b, c only to be dropped as a non-member's.
	eventually(t, "d's x messages dropped", func() bool {
		return a.net.Stats().NonMember+b.net.Stats().NonMember+c.net.Stats().NonMember == 3*rounds
	})
	for _, n := range ns {
		for ch, box := range boxes[n] {
			checkMembers(t, n, ch, box.all(), map[string][]*node{"x": x, "y": y}[ch])
		}
	}
	if err := chains[a]["x"].Send(d.id, 1, []byte("no")); !errors.Is(err, p2p.ErrNotMember) {
		t.Fatalf("send to non-member: %v, want ErrNotMember", err)
	}
}

// checkMembers checks that every message n got on chain came from a member,
// and that n itself is a member.
func checkMembers(t *testing.T, n *node, chain string, got []msg, members []*node) {
	t.Helper()
	ok := map[p2p.NodeID]bool{}
	for _, m := range members {
		ok[m.id] = true
	}
	if !ok[n.id] && len(got) > 0 {
		t.Fatalf("%s is not in %s but received %d of its messages, e.g. %+v", n.name, chain, len(got), got[0])
	}
	for _, m := range got {
		if !ok[m.from] {
			t.Fatalf("%s accepted %q on %s from non-member %s", n.name, m.payload, chain, m.from.Short())
		}
	}
}

// startMesh starts every node and has each dial all the others and itself
// (a shared peer list), then waits for a full mesh.
func startMesh(t *testing.T, ns []*node) {
	t.Helper()
	for _, n := range ns {
		mustOK(t, n.net.Start())
	}
	for _, n := range ns {
		for _, m := range ns {
			mustOK(t, n.net.AddPeer(m.net.Addr()))
		}
	}
	for i, n := range ns {
		for _, m := range ns[i+1:] {
			waitConnected(t, n, m)
			checkOneConnection1(t, n, m)
		}
	}
	for _, n := range ns {
		n.log.waitLog(t, "not dialing this node's own address", nil)
	}
}

// checkOneConnection1 is checkOneConnection for one pair in a mesh.
func checkOneConnection1(t *testing.T, a, b *node) {
	t.Helper()
	lowerA := bytes.Compare(a.id[:], b.id[:]) < 0
	eventually(t, a.name+"-"+b.name+" dialed by the lower id", func() bool {
		pa, okA := peerInfo(a, b.id)
		pb, okB := peerInfo(b, a.id)
		return okA && okB && pa.Outbound == lowerA && pb.Outbound == !lowerA
	})
}

func peerInfo(n *node, id p2p.NodeID) (p2p.PeerInfo, bool) {
	for _, p := range n.net.Connected() {
		if p.ID == id {
			return p, true
		}
	}
	return p2p.PeerInfo{}, false
}

func loadTLS(t testing.TB, dir string) *p2p.TLS {
	t.Helper()
	creds, err := p2p.LoadTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}
