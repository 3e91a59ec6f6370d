package raft

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	hraft "github.com/hashicorp/raft"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

// rawList encodes items, each already an RLP encoding, as a list: the
// way to build non-canonical or ill-shaped messages.
func rawList(t testing.TB, items ...[]byte) []byte {
	t.Helper()
	raws := make([]rlp.RawValue, len(items))
	for i, it := range items {
		raws[i] = it
	}
	b, err := rlp.EncodeToBytes(raws)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleVote() *VoteMsg {
	return &VoteMsg{ChainID: "chain-a", Height: 77, Round: 3, BlockHash: common.Hash{1, 2, 3}, Signer: common.Address{9, 8, 7}, Sig: bytes.Repeat([]byte{0x5a}, 65)}
}

func TestVoteCodec(t *testing.T) {
	v := sampleVote()
	b := v.Encode()
	got, err := DecodeVote(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ChainID != v.ChainID || got.Height != v.Height || got.Round != v.Round || got.BlockHash != v.BlockHash || got.Signer != v.Signer || !bytes.Equal(got.Sig, v.Sig) {
		t.Fatalf("decoded %+v, want %+v", got, v)
	}
	max := sampleVote()
	max.Sig = make([]byte, 256)
	if _, err := DecodeVote(max.Encode()); err != nil {
		t.Fatalf("256-byte signature: %v", err)
	}

	field := func(f func(v *VoteMsg)) []byte {
		v := sampleVote()
		f(v)
		return v.Encode()
	}
	items := func(v *VoteMsg) [][]byte {
		return [][]byte{enc(t, v.ChainID), enc(t, v.Height), enc(t, v.Round), enc(t, v.BlockHash), enc(t, v.Signer), enc(t, v.Sig)}
	}
	with := func(i int, raw []byte) []byte {
		it := items(sampleVote())
		it[i] = raw
		return rawList(t, it...)
	}
	for name, b := range map[string][]byte{
		"empty":                   nil,
		"not a list":              enc(t, "vote"),
		"trailing byte":           append(sampleVote().Encode(), 0),
		"two votes":               append(sampleVote().Encode(), sampleVote().Encode()...),
		"height as 0x81 0x4d":     with(1, []byte{0x81, 77}),
		"height with leading 0":   with(1, []byte{0x82, 0, 77}),
		"chain id long form size": with(0, append([]byte{0xb8, 7}, "chain-a"...)),
		"short hash":              with(3, enc(t, make([]byte, 31))),
		"long address":            with(4, enc(t, make([]byte, 21))),
		"height as a list":        with(1, []byte{0xc0}),
		"extra field":             rawList(t, append(items(sampleVote()), enc(t, uint64(1)))...),
		"missing field":           rawList(t, items(sampleVote())[:5]...),
		"list long form size":     append([]byte{0xf8, byte(len(sampleVote().Encode()) - 1)}, sampleVote().Encode()[1:]...),
		"257-byte signature":      field(func(v *VoteMsg) { v.Sig = make([]byte, 257) }),
		"oversized":               field(func(v *VoteMsg) { v.ChainID = strings.Repeat("c", 4100) }),
		"a want":                  (&WantMsg{ChainID: "c", From: 1, To: 2}).Encode(),
	} {
		if _, err := DecodeVote(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: got %v, want ErrBadMessage", name, err)
		}
	}
}

func TestWantCodec(t *testing.T) {
	for _, w := range []WantMsg{
		{ChainID: "c", From: 0, To: 0},
		{ChainID: "c", From: 5, To: 5 + MaxWantSpan - 1},
		{ChainID: "", From: math.MaxUint64 - MaxWantSpan + 1, To: math.MaxUint64},
	} {
		got, err := DecodeWant(w.Encode())
		if err != nil || *got != w {
			t.Fatalf("%+v: got %+v, %v", w, got, err)
		}
	}
	good := (&WantMsg{ChainID: "c", From: 1, To: 2}).Encode()
	for name, b := range map[string][]byte{
		"empty":                 nil,
		"to before from":        (&WantMsg{ChainID: "c", From: 10, To: 9}).Encode(),
		"span MaxWantSpan+1":    (&WantMsg{ChainID: "c", From: 5, To: 5 + MaxWantSpan}).Encode(),
		"span everything":       (&WantMsg{ChainID: "c", From: 0, To: math.MaxUint64}).Encode(),
		"trailing byte":         append(bytes.Clone(good), 0x80),
		"from with leading 0":   rawList(t, enc(t, "c"), []byte{0x82, 0, 1}, enc(t, uint64(2))),
		"from as 0x81 0x01":     rawList(t, enc(t, "c"), []byte{0x81, 1}, enc(t, uint64(2))),
		"extra field":           rawList(t, enc(t, "c"), enc(t, uint64(1)), enc(t, uint64(2)), enc(t, uint64(3))),
		"uint over 64 bits":     rawList(t, enc(t, "c"), enc(t, uint64(1)), []byte{0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
		"oversized":             (&WantMsg{ChainID: strings.Repeat("x", 5000), From: 1, To: 1}).Encode(),
		"a vote":                sampleVote().Encode(),
		"list long form size":   append([]byte{0xf8, byte(len(good) - 1)}, good[1:]...),
		"chain id as a list":    rawList(t, []byte{0xc0}, enc(t, uint64(1)), enc(t, uint64(2))),
		"truncated":             good[:len(good)-1],
		"list claims more data": append([]byte{good[0] + 1}, good[1:]...),
	} {
		if _, err := DecodeWant(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: got %v, want ErrBadMessage", name, err)
		}
	}
}

func TestMarkerCodec(t *testing.T) {
	m := Marker{ChainID: "chain-b", Height: 1 << 33, Hash: common.Hash{0xaa, 0xbb}}
	b := m.Encode()
	got, err := DecodeMarker(b)
	if err != nil || got != m {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := ReadMarker(bytes.NewReader(b)); err != nil || got != m {
		t.Fatalf("ReadMarker: %+v, %v", got, err)
	}
	items := [][]byte{enc(t, markerDomain), enc(t, m.ChainID), enc(t, m.Height), enc(t, m.Hash)}
	with := func(i int, raw []byte) []byte {
		it := slicesClone(items)
		it[i] = raw
		return rawList(t, it...)
	}
	bigChain := Marker{ChainID: strings.Repeat("z", MaxSnapshotBytes), Height: 1}.Encode()
	for name, b := range map[string][]byte{
		"empty":               nil,
		"other domain":        with(0, enc(t, "tally/raft-snapshot/v2")),
		"no domain":           rawList(t, items[1:]...),
		"empty domain":        with(0, enc(t, "")),
		"trailing byte":       append(bytes.Clone(b), 0),
		"height leading 0":    with(2, []byte{0x83, 0, 0, 1}),
		"short hash":          with(3, enc(t, make([]byte, 31))),
		"extra field":         rawList(t, append(slicesClone(items), enc(t, uint64(0)))...),
		"oversized":           bigChain,
		"a vote":              sampleVote().Encode(),
		"list long form size": append([]byte{0xf8, byte(len(b) - 1)}, b[1:]...),
	} {
		if _, err := DecodeMarker(b); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: got %v, want ErrBadSnapshot", name, err)
		}
	}
	// ReadMarker reads at most one byte past the bound.
	r := &countingReader{r: io.MultiReader(bytes.NewReader(bigChain), zeros{})}
	if _, err := ReadMarker(r); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("ReadMarker of an endless stream: %v", err)
	}
	if r.n > MaxSnapshotBytes+1 {
		t.Fatalf("ReadMarker read %d bytes", r.n)
	}
	if _, err := ReadMarker(io.MultiReader(bytes.NewReader(b[:3]), errReader{})); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("ReadMarker of a failing stream: %v", err)
	}
}

func slicesClone(b [][]byte) [][]byte { return append([][]byte(nil), b...) }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// memSink is an hraft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	failWrite         bool
	closed, cancelled bool
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.failWrite {
		return 0, errors.New("sink full")
	}
	return s.Buffer.Write(p)
}
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

var _ hraft.SnapshotSink = (*memSink)(nil)

func TestSnapshotPersist(t *testing.T) {
	m := Marker{ChainID: "c", Height: 12, Hash: common.Hash{3}}
	snap := Snapshot{Marker: m}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil || !sink.closed || sink.cancelled {
		t.Fatalf("persist: %v (closed %v, cancelled %v)", err, sink.closed, sink.cancelled)
	}
	if got, err := ReadMarker(&sink.Buffer); err != nil || got != m {
		t.Fatalf("persisted %+v, %v", got, err)
	}
	snap.Release()
	bad := &memSink{failWrite: true}
	if err := snap.Persist(bad); err == nil || !bad.cancelled || bad.closed {
		t.Fatalf("failed persist: %v (closed %v, cancelled %v)", err, bad.closed, bad.cancelled)
	}
}

func sampleBlock(t testing.TB) *types.Block {
	t.Helper()
	to := common.Address{4}
	return &types.Block{
		Header: &types.Header{ChainID: "c", Height: 3, ParentHash: common.Hash{1}, Timestamp: 99, TxCount: 1, Proposer: common.Address{2}, Round: 1},
		Txs:    []*types.Tx{{ChainID: "c", Nonce: common.Hash{7}, BlockLimit: 10, To: &to, Gas: 21000, Data: []byte("call"), Sig: make([]byte, 65)}},
	}
}

func TestBlockEntryCodec(t *testing.T) {
	blk := sampleBlock(t)
	e := EncodeBlockEntry(blk)
	if e[0] != EntryBlock {
		t.Fatalf("tag %d", e[0])
	}
	got, err := DecodeBlockEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	s := crypto.Secp256k1()
	if got.Hash(s) != blk.Hash(s) || !bytes.Equal(got.Encode(), blk.Encode()) {
		t.Fatal("block changed in the round trip")
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"tag only":      {EntryBlock},
		"no tag":        blk.Encode(),
		"tag 0":         append([]byte{0}, blk.Encode()...),
		"tag 2":         append([]byte{2}, blk.Encode()...),
		"trailing byte": append(bytes.Clone(e), 0),
		"truncated":     e[:len(e)-1],
		"no header":     append([]byte{EntryBlock}, rawList(t, []byte{0xc0}, []byte{0xc0})...),
		"a vote":        append([]byte{EntryBlock}, sampleVote().Encode()...),
	} {
		if _, err := DecodeBlockEntry(b); !errors.Is(err, ErrBadEntry) {
			t.Errorf("%s: got %v, want ErrBadEntry", name, err)
		}
	}
}

func FuzzDecodeVote(f *testing.F) {
	f.Add(sampleVote().Encode())
	v := sampleVote()
	v.Sig = nil
	f.Add(v.Encode())
	for _, s := range suites {
		k, err := s.GenerateKey()
		if err != nil {
			f.Fatal(err)
		}
		m, err := Sign(k, &types.Header{ChainID: "c", Height: 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Encode())
	}
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeVote(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if !bytes.Equal(v.Encode(), b) {
			t.Fatalf("accepted %x, re-encodes to %x", b, v.Encode())
		}
		if len(v.Sig) > 256 || len(b) > 4096 {
			t.Fatalf("accepted an oversized vote")
		}
	})
}

func FuzzDecodeWant(f *testing.F) {
	f.Add((&WantMsg{ChainID: "c", From: 1, To: 2}).Encode())
	f.Add((&WantMsg{ChainID: "chain", From: 1 << 40, To: 1<<40 + MaxWantSpan - 1}).Encode())
	f.Add((&WantMsg{}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := DecodeWant(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if !bytes.Equal(w.Encode(), b) {
			t.Fatalf("accepted %x, re-encodes to %x", b, w.Encode())
		}
		if w.To < w.From || w.To-w.From >= MaxWantSpan {
			t.Fatalf("accepted span [%d, %d]", w.From, w.To)
		}
	})
}

func FuzzDecodeMarker(f *testing.F) {
	f.Add(Marker{ChainID: "c", Height: 5, Hash: common.Hash{1}}.Encode())
	f.Add(Marker{}.Encode())
	f.Add(Marker{ChainID: "a-longer-chain-id", Height: math.MaxUint64, Hash: common.MaxHash}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMarker(b)
		if err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("error %v does not wrap ErrBadSnapshot", err)
			}
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("accepted %x, re-encodes to %x", b, m.Encode())
		}
		if r, err := ReadMarker(bytes.NewReader(b)); err != nil || r != m {
			t.Fatalf("ReadMarker disagrees: %+v, %v", r, err)
		}
	})
}

func FuzzDecodeBlockEntry(f *testing.F) {
	f.Add(EncodeBlockEntry(sampleBlock(f)))
	f.Add(EncodeBlockEntry(&types.Block{Header: &types.Header{ChainID: "c"}}))
	f.Add([]byte{EntryBlock})
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlockEntry(b)
		if err != nil {
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("error %v does not wrap ErrBadEntry", err)
			}
			return
		}
		if blk.Header == nil {
			t.Fatal("accepted a block without a header")
		}
		if re := EncodeBlockEntry(blk); !bytes.Equal(re, b) {
			t.Fatalf("accepted %x, re-encodes to %x", b, re)
		}
	})
}
