package p2p

import (
	"sync"

	"github.com/tallyhq/tally/engine/p2p/pb"
)

// item is one queued envelope.
type item struct {
	env  *pb.Envelope
	size int    // payload bytes, counted against QueueBytes
	drop func() // called if the queue drops the item (fails a request at once)
}

// queue is one peer's send queue. It outlives connections, so messages sent
// while a peer reconnects are delivered once it is back.
//
// It is bounded in messages and bytes and drops the OLDEST item to admit a
// new one. Consensus messages are superseded by newer ones (a later view or
// height makes older votes useless), so keeping the newest keeps the peer
// closest to the present; dropping the newest would deliver stale traffic
// and starve the current round. Push never blocks, so a slow or dead peer
// never stalls the consensus loop.
type queue struct {
	maxLen, maxBytes int

	mu    sync.Mutex
	items []item // items[head:] are queued, oldest first
	head  int
	bytes int
	drops uint64
	ready chan struct{} // holds a token while items may be queued
}

func newQueue(maxLen, maxBytes int) *queue {
	return &queue{maxLen: maxLen, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push queues it and returns how many older items were dropped for it.
func (q *queue) push(it item) int {
	q.mu.Lock()
	var dropped []item
	for q.len() > 0 && (q.len() >= q.maxLen || q.bytes+it.size > q.maxBytes) {
		dropped = append(dropped, q.popLocked())
	}
	q.items = append(q.items, it)
	q.bytes += it.size
	q.drops += uint64(len(dropped))
	q.mu.Unlock()
	q.signal()
	for _, d := range dropped {
		if d.drop != nil {
			d.drop()
		}
	}
	return len(dropped)
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop returns the oldest item.
func (q *queue) pop() (item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.len() == 0 {
		return item{}, false
	}
	return q.popLocked(), true
}

// unpop puts back an item a closing connection popped but did not send.
func (q *queue) unpop(it item) {
	q.mu.Lock()
	if q.head > 0 {
		q.head--
		q.items[q.head] = it
	} else {
		q.items = append([]item{it}, q.items...)
	}
	q.bytes += it.size
	q.mu.Unlock()
	q.signal()
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) popLocked() item {
	it := q.items[q.head]
	q.items[q.head] = item{} // release the payload
	q.head++
	q.bytes -= it.size
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 64 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:]) // the moved items' old slots must not pin payloads
		q.items, q.head = q.items[:n], 0
	}
	return it
}

// stats reports queued messages and bytes and the drops so far.
func (q *queue) stats() (n, bytes int, drops uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.len(), q.bytes, q.drops
}
