// Package ledger is the Ledger precompile (0x5001): balances per asset code
// in integer minor units. ISSUER mints on issue (a bank deposit) and burns
// on redeem (a withdrawal); anyone transfers what they hold.
//
// Amounts are bounded by MaxAmount (2^128-1) per call while balances are
// uint256, so commutative credits can never overflow in practice; a debit
// never takes a balance below zero.
//
// Credits are deltas: many transfers to one account in one block do not
// conflict. Debits read and write the payer's balance.
package ledger
