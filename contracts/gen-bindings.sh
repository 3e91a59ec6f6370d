#!/usr/bin/env bash
# Regenerates the Go bindings from the compiled artifacts with go-ethereum's
# abigen (pinned). Run after `npm --prefix contracts run compile`.
set -euo pipefail
cd "$(dirname "$0")/.."
for c in Token CouponCampaign Escrow; do
  lc=$(echo "$c" | tr 'A-Z' 'a-z')
  go run github.com/ethereum/go-ethereum/cmd/abigen@v1.17.10 --abi "contracts/build/$c.abi" --bin "contracts/build/$c.bin" \
    --pkg bindings --type "$c" --v2 --out "contracts/bindings/$lc.go"
done
