package raft

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/types"
)

const certChain = "test-chain"

var suites = []crypto.Suite{crypto.Secp256k1(), crypto.SM()}

// valSet is a validator set with its keys, in the set's (address) order.
type valSet struct {
	s    crypto.Suite
	vs   *types.ValidatorSet
	keys []crypto.PrivateKey
}

func newValSet(t testing.TB, s crypto.Suite, n int) *valSet {
	t.Helper()
	keys := make([]crypto.PrivateKey, n)
	vals := make([]types.Validator, n)
	for i := range keys {
		k, err := s.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		vals[i] = types.Validator{Address: k.Address(), PubKey: k.PublicKey()}
	}
	vs, err := types.NewValidatorSet(s, vals)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(keys, func(a, b crypto.PrivateKey) int { return bytes.Compare(a.Address().Bytes(), b.Address().Bytes()) })
	for i, k := range keys {
		if vs.Index(k.Address()) != i {
			t.Fatal("keys not in the set's order")
		}
	}
	return &valSet{s: s, vs: vs, keys: keys}
}

func (v *valSet) header(height, round uint64) *types.Header {
	return &types.Header{ChainID: certChain, Height: height, Round: round, ParentHash: common.Hash{byte(height)},
		Timestamp: 1000 + height, Proposer: v.keys[0].Address(), ValidatorsHash: v.vs.Hash(v.s), NextValidatorsHash: v.vs.Hash(v.s)}
}

func (v *valSet) vote(t testing.TB, i int, h *types.Header) *VoteMsg {
	t.Helper()
	m, err := Sign(v.keys[i], h)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func forSuites(t *testing.T, f func(t *testing.T, s crypto.Suite)) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) { f(t, s) })
	}
}

// A certificate appears exactly at a majority and is a valid majority
// certificate; with 5 validators it is not a BFT one.
func TestCollectorMajority(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		for _, tc := range []struct{ n, quorum int }{{3, 2}, {4, 3}, {5, 3}} {
			t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
				v := newValSet(t, s, tc.n)
				c := NewCollector(s, certChain)
				h := v.header(10, 2)
				if cert := c.Open(h, v.vs); cert != nil {
					t.Fatal("certificate with no votes")
				}
				if c.Pending() != 1 || c.SetOf(10) != v.vs || c.SetOf(11) != nil {
					t.Fatalf("pending %d, set %v", c.Pending(), c.SetOf(10))
				}
				var cert *types.Certificate
				for i := range tc.quorum {
					got, err := c.Add(v.vote(t, i, h))
					if err != nil {
						t.Fatalf("vote %d: %v", i, err)
					}
					if i < tc.quorum-1 && got != nil {
						t.Fatalf("certificate after %d of %d votes", i+1, tc.n)
					}
					cert = got
				}
				if cert == nil {
					t.Fatalf("no certificate after %d of %d votes", tc.quorum, tc.n)
				}
				if len(cert.Votes) != tc.quorum || cert.Height != 10 || cert.Round != 2 || cert.ChainID != certChain || cert.BlockHash != h.Hash(s) {
					t.Fatalf("certificate %+v", cert)
				}
				if err := types.VerifyCertificate(s, v.vs, types.QuorumMajority, h, cert); err != nil {
					t.Fatalf("majority certificate: %v", err)
				}
				err := types.VerifyCertificate(s, v.vs, types.QuorumBFT, h, cert)
				if bft := types.QuorumBFT.Size(tc.n); tc.quorum >= bft {
					if err != nil {
						t.Fatalf("%d of %d is a BFT quorum: %v", tc.quorum, tc.n, err)
					}
				} else if !errors.Is(err, types.ErrQuorum) {
					t.Fatalf("%d of %d passed as a BFT quorum (%v)", tc.quorum, tc.n, err)
				}
				// The height is done: it is no longer open.
				if c.Pending() != 0 || c.SetOf(10) != nil {
					t.Fatalf("pending %d after the certificate", c.Pending())
				}
				// Round-trips through the canonical codec.
				if dec, err := types.DecodeCertificate(cert.Encode()); err != nil || !bytes.Equal(dec.Encode(), cert.Encode()) {
					t.Fatalf("certificate codec: %v", err)
				}
			})
		}
	})
	// 5 validators, 3 signatures: majority yes, BFT no (needs 4).
	if types.QuorumMajority.Size(5) != 3 || types.QuorumBFT.Size(5) != 4 || types.QuorumBFT.Size(4) != 3 {
		t.Fatal("quorum sizes changed")
	}
}

// A vote counts once however often it arrives.
func TestCollectorDuplicateVotes(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 5)
		c := NewCollector(s, certChain)
		h := v.header(3, 0)
		c.Open(h, v.vs)
		v0, v1 := v.vote(t, 0, h), v.vote(t, 1, h)
		for range 5 {
			for _, m := range []*VoteMsg{v0, v1} {
				if cert, err := c.Add(m); err != nil || cert != nil {
					t.Fatalf("repeated vote: %v, %v", cert, err)
				}
			}
		}
		// Re-signing gives a different (for sm, randomized) signature by
		// the same signer: still one vote.
		again := v.vote(t, 0, h)
		if cert, err := c.Add(again); err != nil || cert != nil {
			t.Fatalf("re-signed vote: %v, %v", cert, err)
		}
		cert, err := c.Add(v.vote(t, 2, h))
		if err != nil || cert == nil || len(cert.Votes) != 3 {
			t.Fatalf("third signer: %v, %v", cert, err)
		}
	})
}

// Invalid votes are refused with the right error and do not count.
func TestCollectorRefusesBadVotes(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 3)
		outsider := newValSet(t, s, 1)
		c := NewCollector(s, certChain)
		h := v.header(5, 1)
		c.Open(h, v.vs)

		other := h.Copy()
		other.StateRoot = common.Hash{9}
		otherRound := h.Copy()
		otherRound.Round = 2

		badSig := v.vote(t, 0, h)
		badSig.Sig = bytes.Clone(badSig.Sig)
		badSig.Sig[5] ^= 1
		stolen := v.vote(t, 1, h) // 1's signature claimed by 0
		stolen.Signer = v.keys[0].Address()
		wrongChain := v.vote(t, 0, h)
		wrongChain.ChainID = "other"
		// A header of another chain, signed properly, at an open height.
		foreignHdr := h.Copy()
		foreignHdr.ChainID = "other"
		foreign := v.vote(t, 0, foreignHdr)
		// The same block, signed as if committed in another round.
		roundHash := h.Hash(s)
		roundSig, err := v.keys[0].Sign(types.CommitDigest(s, certChain, h.Height, h.Round+1, roundHash))
		if err != nil {
			t.Fatal(err)
		}
		sameBlockOtherRound := &VoteMsg{ChainID: certChain, Height: h.Height, Round: h.Round + 1, BlockHash: roundHash, Signer: v.keys[0].Address(), Sig: roundSig}
		short := v.vote(t, 0, h)
		short.Sig = short.Sig[:len(short.Sig)-1]
		noSig := v.vote(t, 0, h)
		noSig.Sig = nil

		for _, tc := range []struct {
			name string
			vote *VoteMsg
			want error
		}{
			{"non-member", outsider.vote(t, 0, h), types.ErrNotValidator},
			{"bad signature", badSig, types.ErrCertSignature},
			{"another member's signature", stolen, types.ErrCertSignature},
			{"truncated signature", short, types.ErrCertSignature},
			{"no signature", noSig, types.ErrCertSignature},
			{"another block", v.vote(t, 0, other), types.ErrCertMismatch},
			{"another round", v.vote(t, 0, otherRound), types.ErrCertMismatch},
			{"the block in another round", sameBlockOtherRound, types.ErrCertMismatch},
			{"another chain", wrongChain, ErrBadMessage},
			{"a header of another chain", foreign, ErrBadMessage},
		} {
			cert, err := c.Add(tc.vote)
			if !errors.Is(err, tc.want) || cert != nil {
				t.Errorf("%s: got %v, %v; want %v", tc.name, cert, err, tc.want)
			}
		}
		// None of them counted: one good vote is still short of 2.
		if cert, err := c.Add(v.vote(t, 0, h)); err != nil || cert != nil {
			t.Fatalf("first good vote: %v, %v", cert, err)
		}
		if cert, err := c.Add(v.vote(t, 2, h)); err != nil || cert == nil {
			t.Fatalf("second good vote: %v, %v", cert, err)
		}
	})
}

// Open refuses a set that is not the header's.
func TestCollectorOpenWrongSet(t *testing.T) {
	s := crypto.Secp256k1()
	v, w := newValSet(t, s, 3), newValSet(t, s, 3)
	c := NewCollector(s, certChain)
	h := v.header(1, 0)
	if cert := c.Open(h, w.vs); cert != nil || c.Pending() != 0 || c.SetOf(1) != nil {
		t.Fatal("opened a height with a set the header does not name")
	}
}

// Votes that arrive before the block count once its height opens; votes
// that were invalid all along are ignored then.
func TestCollectorEarlyVotes(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 5)
		outsider := newValSet(t, s, 1)
		c := NewCollector(s, certChain)
		h := v.header(8, 0)
		other := h.Copy()
		other.TxRoot = common.Hash{1}

		bad := v.vote(t, 3, h)
		bad.Sig = bytes.Clone(bad.Sig)
		bad.Sig[3] ^= 0x40
		for _, m := range []*VoteMsg{v.vote(t, 0, h), outsider.vote(t, 0, h), v.vote(t, 1, other), bad, v.vote(t, 0, h), v.vote(t, 4, h)} {
			if cert, err := c.Add(m); err != nil || cert != nil {
				t.Fatalf("early vote: %v, %v", cert, err)
			}
		}
		if c.Pending() != 0 {
			t.Fatal("an early vote opened a height")
		}
		// Two valid distinct early votes: no certificate at Open yet.
		if cert := c.Open(h, v.vs); cert != nil {
			t.Fatalf("certificate from 2 of 5 early votes: %+v", cert)
		}
		cert, err := c.Add(v.vote(t, 2, h))
		if err != nil || cert == nil {
			t.Fatalf("third vote: %v, %v", cert, err)
		}
		if err := types.VerifyCertificate(s, v.vs, types.QuorumMajority, h, cert); err != nil {
			t.Fatal(err)
		}
		got := []common.Address{cert.Votes[0].Signer, cert.Votes[1].Signer, cert.Votes[2].Signer}
		want := []common.Address{v.keys[0].Address(), v.keys[2].Address(), v.keys[4].Address()}
		if !slices.Equal(got, want) {
			t.Fatalf("signers %v, want %v", got, want)
		}

		// Early votes that make a quorum: Open returns the certificate.
		h2 := v.header(9, 0)
		for _, i := range []int{4, 1, 3} {
			if _, err := c.Add(v.vote(t, i, h2)); err != nil {
				t.Fatal(err)
			}
		}
		cert = c.Open(h2, v.vs)
		if cert == nil {
			t.Fatal("Open did not certify with a quorum of early votes")
		}
		if err := types.VerifyCertificate(s, v.vs, types.QuorumMajority, h2, cert); err != nil {
			t.Fatal(err)
		}
		if c.Pending() != 0 {
			t.Fatalf("pending %d", c.Pending())
		}
	})
}

// Early votes are bounded per height and in heights, the lowest height
// going first.
func TestCollectorEarlyBounds(t *testing.T) {
	s := crypto.Secp256k1()
	v := newValSet(t, s, 3)
	c := NewCollector(s, certChain)
	c.maxEarly = 4
	h := v.header(100, 0)
	m := v.vote(t, 0, h)
	for range 200 {
		c.Add(m)
	}
	if n := len(c.early[100]); n != 64 {
		t.Fatalf("%d votes held for one height, want 64", n)
	}
	for _, height := range []uint64{101, 102, 103} {
		c.Add(&VoteMsg{ChainID: certChain, Height: height})
	}
	c.Add(&VoteMsg{ChainID: certChain, Height: 104}) // evicts 100
	if _, ok := c.early[100]; ok || len(c.early) != 4 {
		t.Fatalf("held heights %v", keys(c.early))
	}
	c.Add(&VoteMsg{ChainID: certChain, Height: 50}) // below all held: dropped
	if _, ok := c.early[50]; ok || len(c.early) != 4 {
		t.Fatalf("held heights %v", keys(c.early))
	}
	c.Add(&VoteMsg{ChainID: certChain, Height: 102}) // a held height still takes votes
	if len(c.early[102]) != 2 {
		t.Fatalf("%d votes at 102", len(c.early[102]))
	}
}

func keys[V any](m map[uint64]V) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Close stops a height and drops early votes at or below it.
func TestCollectorClose(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 3)
		c := NewCollector(s, certChain)
		h5, h6, h7 := v.header(5, 0), v.header(6, 0), v.header(7, 0)
		c.Open(h5, v.vs)
		if _, err := c.Add(v.vote(t, 0, h5)); err != nil {
			t.Fatal(err)
		}
		// Early votes for 6 and 7.
		for _, h := range []*types.Header{h6, h7} {
			c.Add(v.vote(t, 0, h))
			c.Add(v.vote(t, 1, h))
		}
		c.Close(6)
		// Close names one height: 5 is still open.
		if c.Pending() != 1 || c.SetOf(5) != v.vs {
			t.Fatal("Close(6) closed height 5")
		}
		if len(c.early) != 1 || len(c.early[7]) != 2 {
			t.Fatalf("early votes after Close(6): %v", keys(c.early))
		}
		c.Close(5)
		if c.Pending() != 0 || c.SetOf(5) != nil {
			t.Fatal("Close(5) left height 5 open")
		}
		// A vote for the closed height 5 is only held, never counted.
		if cert, err := c.Add(v.vote(t, 1, h5)); cert != nil || err != nil {
			t.Fatalf("vote for a closed height: %v, %v", cert, err)
		}
		// Height 6's early votes are gone: opening it needs new ones.
		if cert := c.Open(h6, v.vs); cert != nil {
			t.Fatal("dropped early votes counted")
		}
		// Height 7's survive.
		if cert := c.Open(h7, v.vs); cert == nil {
			t.Fatal("held votes for 7 lost")
		}
		c.Close(6)
		// Closing a height that was never open is harmless, and drops
		// every held vote below it.
		c.Close(1000)
		if c.Pending() != 0 || len(c.early) != 0 {
			t.Fatalf("pending %d, early %v", c.Pending(), keys(c.early))
		}
	})
}

// Missing lists open heights lowest first, at most n of them.
func TestCollectorMissing(t *testing.T) {
	s := crypto.Secp256k1()
	v := newValSet(t, s, 3)
	c := NewCollector(s, certChain)
	if got := c.Missing(10); len(got) != 0 {
		t.Fatalf("Missing on empty: %v", got)
	}
	heights := []uint64{90, 3, 17, 4, 1 << 40, 2, 55}
	for _, h := range heights {
		c.Open(v.header(h, 0), v.vs)
	}
	sorted := slices.Clone(heights)
	slices.Sort(sorted)
	for n := 0; n <= len(heights)+2; n++ {
		got := c.Missing(n)
		want := sorted[:min(n, len(sorted))]
		if !slices.Equal(got, want) {
			t.Fatalf("Missing(%d) = %v, want %v", n, got, want)
		}
	}
	if c.Pending() != len(heights) {
		t.Fatalf("pending %d", c.Pending())
	}
	c.Close(17)
	if got := c.Missing(3); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("after Close(17): %v", got)
	}
	if got := c.Missing(100); slices.Contains(got, 17) || len(got) != len(heights)-1 {
		t.Fatalf("after Close(17): %v", got)
	}
}

// The certificate lists votes in the set's order whatever order they
// arrived in, so every node stores the same bytes.
func TestCollectorDeterministicOrder(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 7) // quorum 4
		h := v.header(21, 3)
		signers := []int{6, 1, 4, 2}
		votes := make(map[int]*VoteMsg)
		for _, i := range signers {
			votes[i] = v.vote(t, i, h)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		var first []byte
		for iter := range 24 {
			order := slices.Clone(signers)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			c := NewCollector(s, certChain)
			// Some before Open, the rest after.
			split := iter % (len(order) + 1)
			for _, i := range order[:split] {
				c.Add(votes[i])
			}
			cert := c.Open(h, v.vs)
			for _, i := range order[split:] {
				got, err := c.Add(votes[i])
				if err != nil {
					t.Fatal(err)
				}
				if got != nil {
					cert = got
				}
			}
			if cert == nil {
				t.Fatalf("order %v: no certificate", order)
			}
			for j := 1; j < len(cert.Votes); j++ {
				if v.vs.Index(cert.Votes[j-1].Signer) >= v.vs.Index(cert.Votes[j].Signer) {
					t.Fatalf("order %v: votes not in set order", order)
				}
			}
			if first == nil {
				first = cert.Encode()
			} else if !bytes.Equal(first, cert.Encode()) {
				t.Fatalf("order %v: certificate bytes differ", order)
			}
		}
	})
}

// A vote signs the same digest a PBFT commit vote does.
func TestSignDigest(t *testing.T) {
	forSuites(t, func(t *testing.T, s crypto.Suite) {
		v := newValSet(t, s, 1)
		h := v.header(4, 9)
		m := v.vote(t, 0, h)
		if m.ChainID != certChain || m.Height != 4 || m.Round != 9 || m.BlockHash != h.Hash(s) || m.Signer != v.keys[0].Address() {
			t.Fatalf("vote %+v", m)
		}
		d := types.CommitDigest(s, certChain, 4, 9, h.Hash(s))
		if err := types.VerifyVote(s, v.vs, d, types.Vote{Signer: m.Signer, Sig: m.Sig}); err != nil {
			t.Fatal(err)
		}
		dec, err := DecodeVote(m.Encode())
		if err != nil || !bytes.Equal(dec.Encode(), m.Encode()) {
			t.Fatalf("vote codec: %v", err)
		}
	})
}
