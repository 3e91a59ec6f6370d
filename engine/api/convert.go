package api

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
)

func pbHeader(s crypto.Suite, h *types.Header) *pb.Header {
	return &pb.Header{
		ChainId: h.ChainID, Height: h.Height, Hash: h.Hash(s).Hex(), ParentHash: h.ParentHash.Hex(),
		TimestampMs: h.Timestamp, TxCount: h.TxCount, TxRoot: h.TxRoot.Hex(), ReceiptRoot: h.ReceiptRoot.Hex(),
		StateRoot: h.StateRoot.Hex(), GasUsed: h.GasUsed, Proposer: h.Proposer.Hex(), Round: h.Round,
		ValidatorsHash: h.ValidatorsHash.Hex(), NextValidatorsHash: h.NextValidatorsHash.Hex(),
	}
}

func pbBlock(c *chain.Chain, b *types.Block, withReceipts bool) (*pb.Block, error) {
	s := c.Suite()
	out := &pb.Block{Header: pbHeader(s, b.Header), Raw: b.Encode()}
	for _, tx := range b.Txs {
		out.TxHashes = append(out.TxHashes, tx.Hash(s).Hex())
	}
	if cert, err := c.Certificate(b.Header.Height); err == nil {
		out.Certificate = cert.Encode()
	}
	if withReceipts {
		rs, err := c.Receipts(b.Header.Height)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out.Receipts = append(out.Receipts, r.Encode())
		}
	}
	return out, nil
}

func pbLogs(logs []*types.Log) []*pb.Log {
	out := make([]*pb.Log, len(logs))
	for i, l := range logs {
		out[i] = &pb.Log{Address: l.Address.Hex(), Data: l.Data}
		for _, t := range l.Topics {
			out[i].Topics = append(out[i].Topics, t.Hex())
		}
	}
	return out
}

func pbReceipt(r *types.Receipt, height uint64, index uint32) *pb.Receipt {
	out := &pb.Receipt{
		TxHash: r.TxHash.Hex(), Height: height, Index: index, Status: uint64(r.Status), StatusText: r.Status.String(),
		GasUsed: r.GasUsed, Output: r.Output, Logs: pbLogs(r.Logs), Raw: r.Encode(),
	}
	if r.ContractAddress != (common.Address{}) {
		out.ContractAddress = r.ContractAddress.Hex()
	}
	if r.Status != types.StatusOK {
		out.RevertReason, _ = exec.RevertReason(r.Output)
	}
	return out
}

func pbTx(s crypto.Suite, tx *types.Tx, height uint64, index uint32) *pb.Transaction {
	out := &pb.Transaction{
		Hash: tx.Hash(s).Hex(), Height: height, Index: index, Nonce: tx.Nonce.Hex(),
		BlockLimit: tx.BlockLimit, Gas: tx.Gas, Data: tx.Data, Raw: tx.Encode(),
	}
	if tx.To != nil {
		out.To = tx.To.Hex()
	}
	if from, err := tx.Sender(s); err == nil {
		out.From = from.Hex()
	}
	return out
}

// parseHash reads a 0x-prefixed 32-byte hex hash.
func parseHash(what, s string) (common.Hash, error) {
	b, err := hexutil.Decode(s)
	if err != nil || len(b) != common.HashLength {
		return common.Hash{}, invalid("%s %q must be 0x followed by 64 hex digits", what, s)
	}
	return common.BytesToHash(b), nil
}

// parseAddress reads a 0x-prefixed 20-byte hex address.
func parseAddress(what, s string) (common.Address, error) {
	b, err := hexutil.Decode(s)
	if err != nil || len(b) != common.AddressLength {
		return common.Address{}, invalid("%s %q must be 0x followed by 40 hex digits", what, s)
	}
	return common.BytesToAddress(b), nil
}
