package evm

import (
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
)

// Code and jump-destination analyses are keyed by code hash, so they are
// pure functions of the key: sharing them across transactions, blocks and
// goroutines can never change a result, whatever state they came from.

// byteCache is a concurrency-safe map bounded by the total size of its
// values; when full it starts over, which is cheap and keeps the hot set.
type byteCache[V ~[]byte] struct {
	mu    sync.RWMutex
	m     map[common.Hash]V
	size  int
	limit int
}

func newByteCache[V ~[]byte](limitBytes int) *byteCache[V] {
	return &byteCache[V]{m: make(map[common.Hash]V), limit: limitBytes}
}

func (c *byteCache[V]) get(h common.Hash) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[h]
	return v, ok
}

func (c *byteCache[V]) put(h common.Hash, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size+len(v) > c.limit {
		c.m, c.size = make(map[common.Hash]V), 0
	}
	if _, ok := c.m[h]; !ok {
		c.m[h], c.size = v, c.size+len(v)
	}
}

// codeCache holds contract code by hash. Callers must not modify the
// returned slices (the EVM only reads code).
type codeCache = byteCache[[]byte]

// jumpCache implements vm.JumpDestCache for every EVM of one VM.
type jumpCache struct{ c *byteCache[vm.BitVec] }

func (j jumpCache) Load(h common.Hash) (vm.BitVec, bool) { return j.c.get(h) }
func (j jumpCache) Store(h common.Hash, v vm.BitVec)     { j.c.put(h, v) }
