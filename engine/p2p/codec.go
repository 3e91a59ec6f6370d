package p2p

import (
	"fmt"
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// codec is gRPC's proto codec with a better-sized buffer pool. gRPC's
// default pool has no tier between 32 KiB and 1 MiB and zeroes every
// buffer it hands out, so each 64 KiB vote or block cleared a whole MiB,
// twice (marshal and unmarshal); that was a third of the CPU time of a
// 64 KiB stream. This pool has a tier at every power of two and does not
// zero: marshalling overwrites and unmarshalling copies exactly the bytes
// that are read. Its name is "proto", so the wire format is unchanged.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("p2p codec: %T is not a proto message", v)
	}
	size := proto.Size(m)
	opts := proto.MarshalOptions{UseCachedSize: true} // the size was just computed
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := opts.Marshal(m)
		return mem.BufferSlice{mem.SliceBuffer(b)}, err
	}
	buf := pool.Get(size)
	if _, err := opts.MarshalAppend((*buf)[:0], m); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("p2p codec: %T is not a proto message", v)
	}
	buf := data.MaterializeToBuffer(pool)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m) // copies the payload out
}

// Pool tiers: 256 B up to 64 MiB; larger buffers are not pooled.
const (
	minTier = 8
	maxTier = 26
)

var pool = &tieredPool{}

// tieredPool implements mem.BufferPool with one sync.Pool per power of two.
type tieredPool struct {
	tiers [maxTier + 1]sync.Pool
}

func (p *tieredPool) Get(n int) *[]byte {
	t := max(minTier, bits.Len(uint(max(n, 1)-1)))
	if t > maxTier {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.tiers[t].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<t)
	return &b
}

// Put keeps only buffers whose capacity is exactly a tier's size, so that
// every buffer in tier t can hold any request Get sends to tier t.
func (p *tieredPool) Put(b *[]byte) {
	if t, ok := tierOfCap(cap(*b)); ok {
		p.tiers[t].Put(b)
	}
}

func tierOfCap(c int) (int, bool) {
	t := bits.Len(uint(c)) - 1
	return t, c > 0 && c == 1<<t && t >= minTier && t <= maxTier
}
