// Package crypto holds Tally's two crypto suites behind one interface:
// secp256k1 (ECDSA, Keccak-256, Ethereum addresses; go-ethereum's cgo
// libsecp256k1) and sm (SM2 signatures, SM3 hashes, emmansun/gmsm), plus key
// files encrypted at rest with a passphrase (AES for secp256k1, SM4 for sm).
//
// Nothing else in the engine hashes, signs or derives addresses by itself.
package crypto
