// Package txpool admits transactions: decode → validate → verify signatures
// in parallel on all cores → admit, in that order, so that bad input costs
// as little as possible and never reaches a block. The pool is bounded in
// count and bytes; a full pool rejects with ErrFull and never grows. Order is
// first-come first-served.
package txpool
