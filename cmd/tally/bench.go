package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/loadgen"
)

func benchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Load generators that measure a running chain"}
	cfg := loadgen.DefaultConfig()
	var keyFile, passFile string
	transfers := &cobra.Command{
		Use:   "transfers",
		Short: "Send pre-signed Ledger transfers over gRPC and report throughput and commit latency",
		RunE: func(cmd *cobra.Command, _ []string) error {
			issuer, err := loadKey(keyFile, passFile)
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := context.Background()
			id, err := chainOf(ctx, c)
			if err != nil {
				return err
			}
			prepStart := time.Now()
			r, err := loadgen.Prepare(ctx, c, id, issuer, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "prepared %d accounts and %d signed transfers in %s\n", cfg.Accounts, cfg.Txs, time.Since(prepStart).Round(time.Millisecond))
			res, err := r.Run(ctx, func(want, done int) { fmt.Fprintf(os.Stderr, "\rcommitted %d/%d", done, want) })
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			fmt.Fprintln(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := transfers.Flags()
	f.StringVar(&keyFile, "key", "", "key file of an ISSUER, which funds the accounts")
	f.StringVar(&passFile, "password-file", "", "file holding the key's passphrase")
	f.IntVar(&cfg.Txs, "txs", cfg.Txs, "transfers to send")
	f.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "funded sender accounts")
	f.IntVar(&cfg.RatePerSec, "rate", 0, "open-loop rate in tx/s (0: as fast as admitted)")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "transactions per request")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, "concurrent senders (closed loop)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for account choice")
	cmd.AddCommand(transfers)
	return cmd
}
