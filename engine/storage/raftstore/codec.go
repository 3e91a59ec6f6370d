package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/raft"
)

// ErrCorrupt is wrapped by every error about a record that does not decode.
var ErrCorrupt = errors.New("raftstore: corrupt record")

// logFormat is the first byte of every encoded log entry; a future layout
// takes the next value, so old and new records stay distinguishable.
const logFormat = 1

const flagAppendedAt = 1 << 0

// The instants whose Unix nanoseconds fit an int64: 1677-09-21 to 2262-04-11.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// encodeLog returns the canonical encoding of l:
//
//	format    byte (1)
//	index     uvarint
//	term      uvarint
//	type      byte
//	flags     byte, bit 0 set when AppendedAt is not the zero time
//	appended  varint Unix nanoseconds, present only with bit 0
//	data      uvarint length || bytes
//	ext       uvarint length || bytes
//
// Every varint is minimal, so a log has exactly one encoding. Nil and empty
// Data (or Extensions) encode alike and decode as nil.
func encodeLog(l *raft.Log) ([]byte, error) {
	n := 1 + 2*binary.MaxVarintLen64 + 2 + binary.MaxVarintLen64 +
		2*binary.MaxVarintLen64 + len(l.Data) + len(l.Extensions)
	b := make([]byte, 0, n)
	b = append(b, logFormat)
	b = binary.AppendUvarint(b, l.Index)
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	if l.AppendedAt.IsZero() {
		b = append(b, 0)
	} else {
		if l.AppendedAt.Before(minTime) || l.AppendedAt.After(maxTime) {
			return nil, fmt.Errorf("raftstore: log %d: AppendedAt %s is outside the range of Unix nanoseconds", l.Index, l.AppendedAt)
		}
		b = append(b, flagAppendedAt)
		b = binary.AppendVarint(b, l.AppendedAt.UnixNano())
	}
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	b = append(b, l.Extensions...)
	return b, nil
}

// decoder reads the fields of one record; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: log entry: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated before %s", field)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.fail("truncated in %s", field)
		return 0
	case n < 0:
		d.fail("%s overflows 64 bits", field)
		return 0
	case n > 1 && d.b[n-1] == 0:
		// A trailing zero group adds nothing: the encoding is not minimal.
		d.fail("%s is not minimally encoded", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	u := d.uvarint(field)
	// Zigzag, as binary.Varint decodes it.
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// bytes returns a length-prefixed field as a slice of the input whose
// capacity ends with it, so appending to one field cannot overwrite the next.
func (d *decoder) bytes(field string) []byte {
	n := d.uvarint(field + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("%s length %d exceeds the %d bytes left", field, n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	if n == 0 {
		return nil
	}
	return v
}

// decodeLog decodes an encodeLog record into l, replacing every field. It
// accepts only canonical encodings and never panics. Data and Extensions
// share b's memory.
func decodeLog(b []byte, l *raft.Log) error {
	d := decoder{b: b}
	if f := d.byte("format"); d.err == nil && f != logFormat {
		return fmt.Errorf("%w: log entry: unknown format %d", ErrCorrupt, f)
	}
	var out raft.Log
	out.Index = d.uvarint("index")
	out.Term = d.uvarint("term")
	out.Type = raft.LogType(d.byte("type"))
	flags := d.byte("flags")
	if d.err == nil && flags&^flagAppendedAt != 0 {
		d.fail("unknown flags %#02x", flags)
	}
	if flags&flagAppendedAt != 0 {
		// Every int64 is an instant after the zero time, so the flag
		// survives a re-encoding and the encoding stays canonical.
		out.AppendedAt = time.Unix(0, d.varint("appended at"))
	}
	out.Data = d.bytes("data")
	out.Extensions = d.bytes("extensions")
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	*l = out
	return nil
}
