package settlement

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
)

// Packet kinds.
const (
	KindSweep      = "sweep"      // user chain shadow → hub reserve
	KindAllocation = "allocation" // hub reserve → user chain shadow
)

// Packet moves liquidity between a user chain and the hub. Seq counts the
// packets of one (Src, Dst, Kind) channel from 1 with no gaps; the receiver
// applies them exactly once and in order.
type Packet struct {
	Kind     string
	Src      string
	Dst      string
	Seq      uint64
	Merchant common.Address
	Asset    string
	Amount   *big.Int
}

// Encode returns the canonical bytes.
func (p *Packet) Encode() []byte {
	b, err := rlp.EncodeToBytes(p)
	if err != nil {
		panic(err)
	}
	return b
}

// DecodePacket parses canonical bytes.
func DecodePacket(b []byte) (*Packet, error) {
	p := new(Packet)
	if err := rlp.DecodeBytes(b, p); err != nil {
		return nil, fmt.Errorf("%w: packet: %v", ErrMalformed, err)
	}
	if !bytes.Equal(p.Encode(), b) {
		return nil, fmt.Errorf("%w: packet: non-canonical encoding", ErrMalformed)
	}
	if (p.Kind != KindSweep && p.Kind != KindAllocation) || p.Seq == 0 || p.Amount == nil || p.Amount.Sign() <= 0 || p.Amount.BitLen() > 128 {
		return nil, fmt.Errorf("%w: packet kind %q seq %d amount %v", ErrMalformed, p.Kind, p.Seq, p.Amount)
	}
	return p, nil
}
