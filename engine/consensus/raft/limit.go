package raft

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// WantInterval is the least time between two WantMsg answers to one peer.
// An honest node asks at most once a second (AskInterval), so it is always
// answered; a peer asking in a loop gets an answer twice a second, not one
// per message, each of which may cost up to MaxWantSpan signatures.
const WantInterval = 500 * time.Millisecond

// AskInterval is the least time between two WantMsgs a node sends.
const AskInterval = time.Second

// WantLimiter decides which peers' WantMsgs are answered: at most one per
// peer per WantInterval. It keeps one entry per peer that asked within the
// last minute. The caller passes the time; it is not safe for concurrent use.
type WantLimiter struct {
	last  map[common.Address]time.Time
	swept time.Time
}

// Allow reports whether a WantMsg from peer, arriving at now, is answered,
// and if so records it.
func (l *WantLimiter) Allow(peer common.Address, now time.Time) bool {
	if l.last == nil {
		l.last = make(map[common.Address]time.Time)
	}
	if now.Sub(l.swept) > time.Minute {
		for p, t := range l.last {
			if now.Sub(t) > time.Minute {
				delete(l.last, p)
			}
		}
		l.swept = now
	}
	if t, ok := l.last[peer]; ok && now.Sub(t) < WantInterval {
		return false
	}
	l.last[peer] = now
	return true
}

// Len is how many peers the limiter remembers.
func (l *WantLimiter) Len() int { return len(l.last) }
