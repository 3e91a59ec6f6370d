package export

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/segmentio/kafka-go"

	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/types"
)

// BlockMsg is the value of a <prefix>.blocks message.
type BlockMsg struct {
	ChainID     string   `json:"chain_id"`
	Height      uint64   `json:"height"`
	Hash        string   `json:"hash"`
	ParentHash  string   `json:"parent_hash"`
	TimestampMs uint64   `json:"timestamp_ms"`
	Proposer    string   `json:"proposer"`
	Round       uint64   `json:"round"`
	GasUsed     uint64   `json:"gas_used"`
	StateRoot   string   `json:"state_root"`
	TxRoot      string   `json:"tx_root"`
	ReceiptRoot string   `json:"receipt_root"`
	TxHashes    []string `json:"tx_hashes"`
	// Certificate is the canonical finality certificate (hex), when the
	// block has one.
	Certificate string `json:"certificate,omitempty"`
}

// ReceiptMsg is the value of a <prefix>.receipts message.
type ReceiptMsg struct {
	ChainID         string   `json:"chain_id"`
	Height          uint64   `json:"height"`
	Index           int      `json:"index"`
	TxHash          string   `json:"tx_hash"`
	From            string   `json:"from"`
	To              string   `json:"to,omitempty"`
	Status          uint64   `json:"status"`
	StatusText      string   `json:"status_text"`
	RevertReason    string   `json:"revert_reason,omitempty"`
	GasUsed         uint64   `json:"gas_used"`
	Output          string   `json:"output,omitempty"`
	ContractAddress string   `json:"contract_address,omitempty"`
	Logs            []LogMsg `json:"logs"`
}

// LogMsg is one log of a receipt, as the chain stores it.
type LogMsg struct {
	Address string   `json:"address"`
	Topics  []string `json:"topics"`
	Data    string   `json:"data"`
}

// EventMsg is the value of a <prefix>.events message: a log that a
// precompile of the chain emitted (a payment into a shadow account, an epoch
// settled, a summary booked on the hub, a Ledger transfer...), decoded with
// the precompile's ABI. Integers are decimal strings; addresses, hashes and
// bytes are 0x-hex.
type EventMsg struct {
	ChainID  string            `json:"chain_id"`
	Height   uint64            `json:"height"`
	TxHash   string            `json:"tx_hash"`
	TxIndex  int               `json:"tx_index"`
	LogIndex int               `json:"log_index"`
	Address  string            `json:"address"`
	Contract string            `json:"contract"`
	Event    string            `json:"event"`
	Args     map[string]string `json:"args"`
}

// messages builds every message of block h.
func (e *Exporter) messages(h uint64) ([]kafka.Message, error) {
	c := e.chain
	s := c.Suite()
	b, err := c.BlockByHeight(h)
	if err != nil {
		return nil, err
	}
	rs, err := c.Receipts(h)
	if err != nil {
		return nil, err
	}
	if len(rs) != len(b.Txs) {
		return nil, fmt.Errorf("%d receipts for %d transactions", len(rs), len(b.Txs))
	}
	hd := b.Header
	bm := BlockMsg{
		ChainID: hd.ChainID, Height: h, Hash: hd.Hash(s).Hex(), ParentHash: hd.ParentHash.Hex(),
		TimestampMs: hd.Timestamp, Proposer: hd.Proposer.Hex(), Round: hd.Round, GasUsed: hd.GasUsed,
		StateRoot: hd.StateRoot.Hex(), TxRoot: hd.TxRoot.Hex(), ReceiptRoot: hd.ReceiptRoot.Hex(), TxHashes: []string{},
	}
	if cert, err := c.Certificate(h); err == nil {
		bm.Certificate = hexutil.Encode(cert.Encode())
	}
	blocks, receipts, events := e.cfg.Topics()
	id := c.ID()
	var out []kafka.Message
	add := func(topic, key, kind string, v any) error {
		val, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out = append(out, kafka.Message{Topic: topic, Key: []byte(id + "/" + key), Value: val, Headers: []kafka.Header{
			{Key: "chain", Value: []byte(id)}, {Key: "height", Value: []byte(strconv.FormatUint(h, 10))}, {Key: "type", Value: []byte(kind)},
		}})
		return nil
	}
	for i, tx := range b.Txs {
		r := rs[i]
		txHash := tx.Hash(s).Hex()
		bm.TxHashes = append(bm.TxHashes, txHash)
		rm := ReceiptMsg{ChainID: id, Height: h, Index: i, TxHash: txHash, Status: uint64(r.Status), StatusText: r.Status.String(),
			GasUsed: r.GasUsed, Logs: []LogMsg{}}
		if from, err := tx.Sender(s); err == nil {
			rm.From = from.Hex()
		}
		if tx.To != nil {
			rm.To = tx.To.Hex()
		}
		if len(r.Output) > 0 {
			rm.Output = hexutil.Encode(r.Output)
		}
		if r.Status != types.StatusOK {
			rm.RevertReason, _ = exec.RevertReason(r.Output)
		}
		if r.ContractAddress != (common.Address{}) {
			rm.ContractAddress = r.ContractAddress.Hex()
		}
		for j, l := range r.Logs {
			lm := LogMsg{Address: l.Address.Hex(), Topics: []string{}, Data: hexutil.Encode(l.Data)}
			for _, t := range l.Topics {
				lm.Topics = append(lm.Topics, t.Hex())
			}
			rm.Logs = append(rm.Logs, lm)
			if ev := e.dec.decode(l); ev != nil {
				ev.ChainID, ev.Height, ev.TxHash, ev.TxIndex, ev.LogIndex = id, h, txHash, i, j
				if err := add(events, fmt.Sprintf("%d/%d/%d", h, i, j), "event", ev); err != nil {
					return nil, err
				}
			}
		}
		if err := add(receipts, txHash, "receipt", rm); err != nil {
			return nil, err
		}
	}
	// Topics are not ordered with each other: a consumer that joins a
	// block with its receipts waits for every hash in tx_hashes.
	if err := add(blocks, strconv.FormatUint(h, 10), "block", bm); err != nil {
		return nil, err
	}
	return out, nil
}

// decoder names and decodes the logs of a chain's precompiles.
type decoder struct {
	events map[eventID]namedEvent
}

type eventID struct {
	addr  common.Address
	topic common.Hash
}

type namedEvent struct {
	contract string
	ev       abi.Event
}

func newDecoder(x *exec.Executor) *decoder {
	d := &decoder{events: make(map[eventID]namedEvent)}
	if x == nil {
		return d
	}
	for addr, c := range x.Contracts() {
		for _, ev := range c.Events {
			d.events[eventID{addr, ev.ID}] = namedEvent{c.Name, ev}
		}
	}
	return d
}

// decode returns the event l is, or nil when l is not a known precompile
// event or does not decode as one.
func (d *decoder) decode(l *types.Log) *EventMsg {
	if len(l.Topics) == 0 {
		return nil
	}
	ne, ok := d.events[eventID{l.Address, l.Topics[0]}]
	if !ok {
		return nil
	}
	vals := make(map[string]any)
	if err := ne.ev.Inputs.NonIndexed().UnpackIntoMap(vals, l.Data); err != nil {
		return nil
	}
	var indexed abi.Arguments
	for _, a := range ne.ev.Inputs {
		if a.Indexed {
			indexed = append(indexed, a)
		}
	}
	if len(indexed) != len(l.Topics)-1 {
		return nil
	}
	if err := abi.ParseTopicsIntoMap(vals, indexed, l.Topics[1:]); err != nil {
		return nil
	}
	args := make(map[string]string, len(vals))
	for k, v := range vals {
		args[k] = jsonValue(v)
	}
	return &EventMsg{Address: l.Address.Hex(), Contract: ne.contract, Event: ne.ev.Name, Args: args}
}

// jsonValue renders a decoded ABI value as a string.
func jsonValue(v any) string {
	switch x := v.(type) {
	case *big.Int:
		return x.String()
	case common.Address:
		return x.Hex()
	case common.Hash:
		return x.Hex()
	case [32]byte:
		return hexutil.Encode(x[:])
	case []byte:
		return hexutil.Encode(x)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64:
		return fmt.Sprint(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
