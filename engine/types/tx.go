package types

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
)

// Transaction validation errors. Each has its own error code at the API.
var (
	ErrWrongChain    = errors.New("wrong chain id")
	ErrTxTooLarge    = errors.New("transaction too large")
	ErrBadSignature  = errors.New("bad signature")
	ErrMissingKey    = errors.New("transaction must carry the signer's public key")
	ErrUnexpectedKey = errors.New("transaction must not carry a public key")
)

// Tx is a signed transaction. There is no native coin and no fee; Gas bounds
// the work. Replay protection is FISCO-style: Nonce is a random 256-bit value
// unique within the BlockLimit window, and the transaction is valid only while
// head < BlockLimit <= head + window.
type Tx struct {
	ChainID    string
	Nonce      common.Hash
	BlockLimit uint64
	// To is the callee; nil creates a contract from Data.
	To   *common.Address `rlp:"nil"`
	Gas  uint64
	Data []byte
	// PubKey is the signer's 65-byte public key (sm suite only; empty otherwise).
	PubKey []byte
	// Sig signs SigningHash: 65-byte [R||S||V] for secp256k1, DER for SM2.
	Sig []byte

	hash   atomic.Pointer[common.Hash]
	sender atomic.Pointer[common.Address]
	size   atomic.Uint64
}

// txBody is the part of a transaction that the signature covers.
type txBody struct {
	Domain     string
	ChainID    string
	Nonce      common.Hash
	BlockLimit uint64
	To         *common.Address `rlp:"nil"`
	Gas        uint64
	Data       []byte
	PubKey     []byte
}

// SigningHash is the digest the sender signs. It covers every field but Sig,
// and is domain-separated from every other signed object.
func (tx *Tx) SigningHash(s crypto.Suite) common.Hash {
	return s.Hash(encode(&txBody{"tally/tx", tx.ChainID, tx.Nonce, tx.BlockLimit, tx.To, tx.Gas, tx.Data, tx.PubKey}))
}

// Encode returns the canonical bytes.
func (tx *Tx) Encode() []byte { return encode(tx) }

// Hash is the suite hash of the canonical bytes; it is cached.
func (tx *Tx) Hash(s crypto.Suite) common.Hash {
	if h := tx.hash.Load(); h != nil {
		return *h
	}
	enc := tx.Encode()
	h := s.Hash(enc)
	tx.hash.Store(&h)
	tx.size.Store(uint64(len(enc)))
	return h
}

// Size is the length of the canonical encoding.
func (tx *Tx) Size() int {
	if n := tx.size.Load(); n != 0 {
		return int(n)
	}
	n := len(tx.Encode())
	tx.size.Store(uint64(n))
	return n
}

// Sign fills PubKey (when the suite needs it) and Sig.
func (tx *Tx) Sign(key crypto.PrivateKey) error {
	s := key.Suite()
	tx.PubKey = nil
	if s.TxCarriesPubKey() {
		tx.PubKey = key.PublicKey()
	}
	sig, err := key.Sign(tx.SigningHash(s))
	if err != nil {
		return err
	}
	tx.Sig = sig
	tx.hash.Store(nil)
	tx.size.Store(0)
	a := key.Address()
	tx.sender.Store(&a)
	return nil
}

// Sender authenticates the signature and returns the signer's address. The
// result is cached, so a transaction verified by the pool is not verified again.
func (tx *Tx) Sender(s crypto.Suite) (common.Address, error) {
	if a := tx.sender.Load(); a != nil {
		return *a, nil
	}
	if s.TxCarriesPubKey() && len(tx.PubKey) == 0 {
		return common.Address{}, ErrMissingKey
	}
	if !s.TxCarriesPubKey() && len(tx.PubKey) != 0 {
		return common.Address{}, ErrUnexpectedKey
	}
	a, err := s.Sender(tx.SigningHash(s), tx.Sig, tx.PubKey)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	tx.sender.Store(&a)
	return a, nil
}

// DecodeTx parses canonical transaction bytes. It checks form only, not the
// signature or the chain.
func DecodeTx(b []byte) (*Tx, error) {
	tx := new(Tx)
	if err := decodeCanonical("transaction", b, tx); err != nil {
		return nil, err
	}
	tx.size.Store(uint64(len(b)))
	return tx, nil
}

// EncodeTxs encodes a list of transactions canonically.
func EncodeTxs(txs []*Tx) []byte { return encode(txs) }

// DecodeTxs parses a canonical list of transactions.
func DecodeTxs(b []byte) ([]*Tx, error) {
	var txs []*Tx
	if err := decodeCanonical("transaction list", b, &txs); err != nil {
		return nil, err
	}
	return txs, nil
}

// NewTx makes an unsigned transaction with a fresh random nonce.
func NewTx(chainID string, blockLimit uint64, to *common.Address, gas uint64, data []byte) *Tx {
	tx := &Tx{ChainID: chainID, BlockLimit: blockLimit, To: to, Gas: gas, Data: data}
	if _, err := rand.Read(tx.Nonce[:]); err != nil {
		panic(fmt.Sprintf("types: no randomness for a nonce: %v", err))
	}
	return tx
}
