package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// LoopNet is an in-process network for running many validators in one
// process (the simulator, tests). It can drop and delay messages and cut
// validators off (partitions), from a seed, so a run replays.
type LoopNet struct {
	mu       sync.Mutex
	peers    map[string]map[common.Address]Endpoint
	cut      map[common.Address]bool
	dropRate float64
	maxDelay time.Duration
	rng      *rand.Rand
}

// NewLoopNet makes an empty network whose faults draw from seed.
func NewLoopNet(seed uint64) *LoopNet {
	return &LoopNet{peers: map[string]map[common.Address]Endpoint{}, cut: map[common.Address]bool{}, rng: rand.New(rand.NewPCG(seed, 0x100b))}
}

// SetFaults drops each message with probability drop and delays the rest by
// up to maxDelay.
func (n *LoopNet) SetFaults(drop float64, maxDelay time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropRate, n.maxDelay = drop, maxDelay
}

// Isolate cuts a validator off from everyone (on) or reconnects it (off).
func (n *LoopNet) Isolate(v common.Address, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[v] = on
}

// Attach implements Network.
func (n *LoopNet) Attach(chainID string, self common.Address, ep Endpoint) (Transport, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.peers[chainID] == nil {
		n.peers[chainID] = map[common.Address]Endpoint{}
	}
	n.peers[chainID][self] = ep
	return &loopTransport{net: n, chain: chainID, self: self}, nil
}

type loopTransport struct {
	net   *LoopNet
	chain string
	self  common.Address
}

// route decides a message's fate under the faults: deliver after a delay, or drop.
func (n *LoopNet) route(from, to common.Address) (time.Duration, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[from] || n.cut[to] || (n.dropRate > 0 && n.rng.Float64() < n.dropRate) {
		return 0, false
	}
	if n.maxDelay <= 0 {
		return 0, true
	}
	return time.Duration(n.rng.Int64N(int64(n.maxDelay))), true
}

func (t *loopTransport) targets(to common.Address) []Endpoint {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	var out []Endpoint
	for addr, ep := range t.net.peers[t.chain] {
		if addr != t.self && (to == (common.Address{}) || to == addr) {
			out = append(out, ep)
		}
	}
	return out
}

func (t *loopTransport) addrOf(ep Endpoint) common.Address {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	for a, e := range t.net.peers[t.chain] {
		if e == ep {
			return a
		}
	}
	return common.Address{}
}

// Send implements Transport.
func (t *loopTransport) Send(to common.Address, payload []byte) {
	for _, ep := range t.targets(to) {
		delay, ok := t.net.route(t.self, t.addrOf(ep))
		if !ok {
			continue
		}
		msg := append([]byte(nil), payload...)
		if delay == 0 {
			ep.Deliver(t.self, msg)
			continue
		}
		time.AfterFunc(delay, func() { ep.Deliver(t.self, msg) })
	}
}

// ErrUnreachable is returned when a peer cannot be reached.
var ErrUnreachable = errors.New("peer unreachable")

// FetchBlocks implements Transport.
func (t *loopTransport) FetchBlocks(ctx context.Context, peer common.Address, from, to uint64) ([]SyncedBlock, error) {
	t.net.mu.Lock()
	ep := t.net.peers[t.chain][peer]
	cut := t.net.cut[peer] || t.net.cut[t.self]
	t.net.mu.Unlock()
	if ep == nil || cut {
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, peer)
	}
	return ep.ServeBlocks(from, to)
}

// Call implements Transport: the request and the answer each take a
// delay drawn like a message's, and either may be lost (the call then
// fails, as a timed-out RPC would).
func (t *loopTransport) Call(ctx context.Context, peer common.Address, payload []byte) ([]byte, error) {
	t.net.mu.Lock()
	ep := t.net.peers[t.chain][peer]
	t.net.mu.Unlock()
	if ep == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, peer)
	}
	hop := func(from, to common.Address) error {
		delay, ok := t.net.route(from, to)
		if !ok {
			return fmt.Errorf("%w: %s (message lost)", ErrUnreachable, peer)
		}
		if delay == 0 {
			return ctx.Err()
		}
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		}
	}
	if err := hop(t.self, peer); err != nil {
		return nil, err
	}
	resp, err := ep.Serve(ctx, t.self, append([]byte(nil), payload...))
	if err != nil {
		return nil, err
	}
	if err := hop(peer, t.self); err != nil {
		return nil, err
	}
	return resp, nil
}

// Close implements Transport.
func (t *loopTransport) Close() {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	delete(t.net.peers[t.chain], t.self)
}
