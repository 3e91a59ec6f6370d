package raftstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestEncodeLogGolden(t *testing.T) {
	cases := []struct {
		log raft.Log
		hex string
	}{
		{raft.Log{Index: 1, Term: 2, Type: raft.LogCommand, Data: []byte("hi")}, "01010200" + "00" + "026869" + "00"},
		{raft.Log{Index: 300, Term: 1, Type: raft.LogConfiguration, Extensions: []byte{9}, AppendedAt: time.Unix(0, -1)},
			"01ac02" + "01" + "05" + "01" + "01" + "00" + "0109"},
		{raft.Log{AppendedAt: time.Unix(0, 1)}, "01000000" + "01" + "02" + "00" + "00"},
	}
	for _, c := range cases {
		b, err := encodeLog(&c.log)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != c.hex {
			t.Errorf("encodeLog(%+v) = %s, want %s", c.log, got, c.hex)
		}
	}
}

func TestLogRoundTrip(t *testing.T) {
	logs := []raft.Log{
		{},
		{Index: math.MaxUint64, Term: math.MaxUint64, Type: raft.LogType(255), Data: bytes.Repeat([]byte{0xab}, 70000), Extensions: []byte("x")},
		{Index: 1, AppendedAt: time.Unix(0, math.MinInt64)},
		{Index: 2, AppendedAt: time.Unix(0, math.MaxInt64)},
		{Index: 3, AppendedAt: time.Now()},
		{Index: 4, AppendedAt: time.Unix(0, 0)},
	}
	for _, l := range logs {
		b, err := encodeLog(&l)
		if err != nil {
			t.Fatal(err)
		}
		var got raft.Log
		if err := decodeLog(b, &got); err != nil {
			t.Fatalf("decode(encode(%v)): %v", l.Index, err)
		}
		if got.Index != l.Index || got.Term != l.Term || got.Type != l.Type ||
			!bytes.Equal(got.Data, l.Data) || !bytes.Equal(got.Extensions, l.Extensions) ||
			!got.AppendedAt.Equal(l.AppendedAt) || got.AppendedAt.IsZero() != l.AppendedAt.IsZero() {
			t.Fatalf("round trip of log %d changed it: %+v", l.Index, got)
		}
	}
	for _, at := range []time.Time{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := encodeLog(&raft.Log{AppendedAt: at}); err == nil {
			t.Errorf("encodeLog accepted AppendedAt %s, beyond int64 nanoseconds", at)
		}
	}
}

func TestDecodeLogRejects(t *testing.T) {
	cases := map[string]string{
		"empty":                   "",
		"unknown format":          "02010200000000",
		"format zero":             "00010200000000",
		"truncated index":         "0180",
		"truncated before type":   "010102",
		"truncated before flags":  "01010200",
		"truncated time":          "0101020001",
		"truncated data":          "010102000003aabb",
		"missing extensions":      "0101020000026869",
		"non-minimal index":       "01810002000000",
		"non-minimal zero term":   "0101800000000000",
		"non-minimal length":      "0101020000800000",
		"non-minimal time":        "010102000180000000",
		"index overflows":         "01ffffffffffffffffff020200000000",
		"unknown flag":            "01010200020000",
		"trailing bytes":          "0101020000000000",
		"data length beyond end":  "0101020000ffffffffffffffffff0100",
		"ext length beyond end":   "010102000000ff01",
		"huge data length varint": "0101020000ffffffffffffffffffff0100",
	}
	for name, h := range cases {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		l := raft.Log{Index: 77}
		err = decodeLog(b, &l)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decodeLog(%s) = %v, want ErrCorrupt", name, h, err)
			continue
		}
		if l.Index != 77 {
			t.Errorf("%s: a failed decode modified the destination", name)
		}
		t.Logf("%s: %v", name, err)
	}
}

// FuzzDecodeLog checks that decodeLog never panics, and that whatever it
// accepts is canonical: encoding the result gives back the input.
func FuzzDecodeLog(f *testing.F) {
	seeds := []raft.Log{
		{},
		{Index: 1, Term: 2, Data: []byte("hi")},
		{Index: 300, Term: 1 << 40, Type: raft.LogConfiguration, Data: []byte("cfg"), Extensions: []byte{0, 1}, AppendedAt: time.Unix(1_700_000_000, 5)},
		{Index: math.MaxUint64, AppendedAt: time.Unix(0, math.MinInt64)},
	}
	for _, l := range seeds {
		b, err := encodeLog(&l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{logFormat, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := decodeLog(b, &l); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := encodeLog(&l)
		if err != nil {
			t.Fatalf("re-encoding a decoded log: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("non-canonical input accepted:\n in  %x\n out %x", b, again)
		}
	})
}
