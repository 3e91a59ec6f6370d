package raft

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	hraft "github.com/hashicorp/raft"
)

// Marker is a Tally Raft snapshot: the chain's head when the snapshot was
// taken. A chain's state is its committed blocks, already durable in the
// chain database; the snapshot only says how far the log it replaces
// reached, and a node restoring it fetches the blocks it lacks from peers
// (verified by their finality certificates and by the chain of hashes
// ending at the marker's hash) instead of replaying the log.
type Marker struct {
	ChainID string
	Height  uint64
	Hash    common.Hash
}

// ErrBadSnapshot is returned for a snapshot that does not decode or is for
// another chain.
var ErrBadSnapshot = errors.New("raft: bad snapshot")

const markerDomain = "tally/raft-snapshot/v1"

// Encode returns the marker's canonical bytes.
func (m Marker) Encode() []byte {
	b, err := rlp.EncodeToBytes([]any{markerDomain, m.ChainID, m.Height, m.Hash})
	if err != nil {
		panic(err) // strings, integers and hashes always encode
	}
	return b
}

// DecodeMarker parses a snapshot; it rejects anything but canonical bytes.
func DecodeMarker(b []byte) (Marker, error) {
	var v struct {
		Domain  string
		ChainID string
		Height  uint64
		Hash    common.Hash
	}
	if len(b) > MaxSnapshotBytes {
		return Marker{}, fmt.Errorf("%w: %d bytes", ErrBadSnapshot, len(b))
	}
	if err := rlp.DecodeBytes(b, &v); err != nil {
		return Marker{}, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	m := Marker{ChainID: v.ChainID, Height: v.Height, Hash: v.Hash}
	if v.Domain != markerDomain {
		return Marker{}, fmt.Errorf("%w: domain %q", ErrBadSnapshot, v.Domain)
	}
	if string(m.Encode()) != string(b) {
		return Marker{}, fmt.Errorf("%w: not canonical", ErrBadSnapshot)
	}
	return m, nil
}

// ReadMarker reads a snapshot from raft's restore stream.
func ReadMarker(r io.Reader) (Marker, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSnapshotBytes+1))
	if err != nil {
		return Marker{}, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return DecodeMarker(b)
}

// Snapshot is an hraft.FSMSnapshot of a marker.
type Snapshot struct{ Marker Marker }

// Persist implements hraft.FSMSnapshot.
func (s Snapshot) Persist(sink hraft.SnapshotSink) error {
	if _, err := sink.Write(s.Marker.Encode()); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release implements hraft.FSMSnapshot.
func (Snapshot) Release() {}
