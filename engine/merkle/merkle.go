package merkle

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// HashFunc is the chain suite's hash over the concatenation of its arguments.
type HashFunc func(data ...[]byte) common.Hash

// Domain separation prefixes, as in RFC 6962 §2.1: a leaf can never be
// mistaken for an interior node.
var (
	leafPrefix = []byte{0x00}
	nodePrefix = []byte{0x01}
)

// MaxProofLen bounds a proof's path (a tree of 2^64 leaves needs 64).
const MaxProofLen = 64

// Errors a verifier tests for.
var (
	ErrBadProof  = errors.New("merkle: proof does not match root")
	ErrBadIndex  = errors.New("merkle: leaf index out of range")
	ErrProofSize = errors.New("merkle: proof path has the wrong length")
)

// LeafHash is H(0x00 || leaf).
func LeafHash(h HashFunc, leaf []byte) common.Hash { return h(leafPrefix, leaf) }

func nodeHash(h HashFunc, l, r common.Hash) common.Hash { return h(nodePrefix, l[:], r[:]) }

// EmptyRoot is the root of a tree with no leaves: H("").
func EmptyRoot(h HashFunc) common.Hash { return h() }

// Root returns the Merkle tree hash of leaves.
func Root(h HashFunc, leaves [][]byte) common.Hash {
	if len(leaves) == 0 {
		return EmptyRoot(h)
	}
	level := make([]common.Hash, len(leaves))
	for i, l := range leaves {
		level[i] = LeafHash(h, l)
	}
	return rootOfHashes(h, level)
}

// rootOfHashes folds a level bottom-up. Pairing adjacent nodes and carrying
// an odd last node up unchanged gives exactly RFC 6962's split at the largest
// power of two below n.
func rootOfHashes(h HashFunc, level []common.Hash) common.Hash {
	for len(level) > 1 {
		level = foldOnce(h, level)
	}
	return level[0]
}

// Proof is an inclusion proof of leaf Index in a tree of Size leaves.
type Proof struct {
	Index uint64
	Size  uint64
	Path  []common.Hash
}

// Encode returns the canonical RLP bytes.
func (p *Proof) Encode() []byte {
	b, err := rlp.EncodeToBytes(p)
	if err != nil {
		panic(err)
	}
	return b
}

// DecodeProof parses canonical proof bytes.
func DecodeProof(b []byte) (*Proof, error) {
	p := new(Proof)
	if err := rlp.DecodeBytes(b, p); err != nil {
		return nil, fmt.Errorf("merkle: malformed proof: %w", err)
	}
	if len(p.Path) > MaxProofLen {
		return nil, ErrProofSize
	}
	return p, nil
}

// Prove builds the inclusion proof for leaves[index].
func Prove(h HashFunc, leaves [][]byte, index int) (*Proof, error) {
	if index < 0 || index >= len(leaves) {
		return nil, ErrBadIndex
	}
	level := make([]common.Hash, len(leaves))
	for i, l := range leaves {
		level[i] = LeafHash(h, l)
	}
	p := &Proof{Index: uint64(index), Size: uint64(len(leaves))}
	for i := index; len(level) > 1; i /= 2 {
		if sib := i ^ 1; sib < len(level) {
			p.Path = append(p.Path, level[sib])
		}
		level = foldOnce(h, level)
	}
	return p, nil
}

// foldOnce hashes adjacent pairs of a level into the level above.
func foldOnce(h HashFunc, level []common.Hash) []common.Hash {
	next := make([]common.Hash, 0, (len(level)+1)/2)
	for i := 0; i+1 < len(level); i += 2 {
		next = append(next, nodeHash(h, level[i], level[i+1]))
	}
	if len(level)%2 == 1 {
		next = append(next, level[len(level)-1])
	}
	return next
}

// VerifyInclusion checks that leaf is at p.Index of the tree of p.Size
// leaves whose root is root. It is the light-client check for receipts and
// transactions; it recomputes everything from leaf and path.
//
// The root alone does not bind the tree size (a tree of 13 leaves and one of
// 16 share the left subtree), so a caller that cares about the index must
// compare p.Size with a size it trusts, such as the header's TxCount.
func VerifyInclusion(h HashFunc, root common.Hash, leaf []byte, p *Proof) error {
	if p == nil || p.Index >= p.Size {
		return ErrBadIndex
	}
	if want := pathLen(p.Index, p.Size); len(p.Path) != want {
		return fmt.Errorf("%w: %d hashes, want %d", ErrProofSize, len(p.Path), want)
	}
	node := LeafHash(h, leaf)
	i, last, k := p.Index, p.Size-1, 0
	for last > 0 {
		switch {
		case i%2 == 1:
			node = nodeHash(h, p.Path[k], node)
			k++
		case i < last:
			node = nodeHash(h, node, p.Path[k])
			k++
		}
		// i == last and even: the node is carried up unchanged.
		i, last = i/2, last/2
	}
	if node != root {
		return ErrBadProof
	}
	return nil
}

// pathLen is the number of siblings on the path of index in a tree of size
// leaves: one per level, except levels where the node is a carried-up last one.
func pathLen(index, size uint64) int {
	n := 0
	for last := size - 1; last > 0; index, last = index/2, last/2 {
		if index%2 == 1 || index < last {
			n++
		}
	}
	return n
}
