package raft

import (
	"errors"
	"fmt"

	"github.com/tallyhq/tally/engine/types"
)

// Log entries a Tally Raft chain writes: the first byte says what follows.
const (
	// EntryBlock carries a canonical block proposed by the leader.
	EntryBlock byte = 1
)

// ErrBadEntry is returned for a log entry that is not a block.
var ErrBadEntry = errors.New("raft: bad log entry")

// EncodeBlockEntry wraps a block as a log entry.
func EncodeBlockEntry(b *types.Block) []byte { return append([]byte{EntryBlock}, b.Encode()...) }

// DecodeBlockEntry parses a log entry written by EncodeBlockEntry.
func DecodeBlockEntry(data []byte) (*types.Block, error) {
	if len(data) == 0 || data[0] != EntryBlock {
		return nil, fmt.Errorf("%w: no block tag", ErrBadEntry)
	}
	b, err := types.DecodeBlock(data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	return b, nil
}
