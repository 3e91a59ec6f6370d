package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/hubchain"
)

func hubCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "hub", Short: "Hub reconciliation for bank operations (--node is the hub's node)"}
	var q hubchain.StatementQuery
	var merchant, format string
	var userNodes []string
	flags := func(c *cobra.Command) {
		c.Flags().StringVar(&merchant, "merchant", "", "hot account address")
		c.Flags().StringVar(&q.Chain, "chain-id", "", "only this user chain")
		c.Flags().StringVar(&q.Asset, "asset", "", "only this asset")
		c.Flags().Uint64Var(&q.FromEpoch, "from-epoch", 0, "first epoch")
		c.Flags().Uint64Var(&q.ToEpoch, "to-epoch", 0, "last epoch")
	}
	read := func() ([]hubchain.StatementLine, error) {
		m, err := parseAddr("merchant", merchant)
		if err != nil {
			return nil, err
		}
		q.Merchant = m
		c, err := g.dial()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return hubchain.ReadStatement(ctx, c, q)
	}
	statement := &cobra.Command{
		Use:   "statement",
		Short: "Per-epoch, per-chain statement of a hot account, with a totals line",
		RunE: func(cmd *cobra.Command, _ []string) error {
			lines, err := read()
			if err != nil {
				return err
			}
			return writeStatement(cmd.OutOrStdout(), format, lines)
		},
	}
	flags(statement)
	statement.Flags().StringVar(&format, "format", "csv", "json or csv")
	verify := &cobra.Command{
		Use:   "verify-statement",
		Short: "Check every statement line against its user chain's own blocks",
		RunE: func(cmd *cobra.Command, _ []string) error {
			lines, err := read()
			if err != nil {
				return err
			}
			return verifyStatement(cmd, q, lines, userNodes)
		},
	}
	flags(verify)
	verify.Flags().StringArrayVar(&userNodes, "user-node", nil, "CHAIN=ADDR of a node of each user chain (repeat)")
	cmd.AddCommand(statement, verify)
	return cmd
}

var statementHeader = []string{"chain", "epoch", "from_height", "to_height", "block_hash", "summary_hash", "hub_height",
	"asset", "opening", "income", "payouts", "alloc_in", "sweep_out", "closing", "pay_count", "payout_count"}

func writeStatement(w io.Writer, format string, lines []hubchain.StatementLine) error {
	total := hubchain.SumLines(lines)
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"lines": lines, "totals": total})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(statementHeader)
		for _, l := range append(lines, total) {
			cw.Write(csvRow(l))
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("--format %q: use json or csv", format)
}

func csvRow(l hubchain.StatementLine) []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	row := []string{l.Chain, u(l.Epoch), u(l.FromHeight), u(l.ToHeight), l.BlockHash.Hex(), l.SummaryHash.Hex(), u(l.BookedAt), l.Asset,
		l.Opening.String(), l.Income.String(), l.Payouts.String(), l.AllocIn.String(), l.SweepOut.String(), l.Closing.String(),
		u(l.PayCount), u(l.PayoutCount)}
	if l.Chain == "TOTAL" {
		for _, i := range []int{1, 2, 3, 4, 5, 6, 8, 13} {
			row[i] = ""
		}
	}
	return row
}

func verifyStatement(cmd *cobra.Command, q hubchain.StatementQuery, lines []hubchain.StatementLine, userNodes []string) error {
	nodes := map[string]string{}
	for _, kv := range userNodes {
		id, addr, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--user-node %q: use CHAIN=ADDR", kv)
		}
		nodes[id] = addr
	}
	ctx := context.Background()
	failed := 0
	for _, l := range lines {
		addr, ok := nodes[l.Chain]
		if !ok {
			return fmt.Errorf("no --user-node for chain %s", l.Chain)
		}
		err := verifyOne(ctx, addr, q, l)
		verdict := "OK"
		if err != nil {
			verdict, failed = "MISMATCH: "+err.Error(), failed+1
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s epoch %d blocks %d..%d: %s\n", l.Chain, l.Epoch, l.FromHeight, l.ToHeight, verdict)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d lines do not match their user chains", failed, len(lines))
	}
	fmt.Fprintf(cmd.OutOrStdout(), "all %d lines match their user chains\n", len(lines))
	return nil
}

func verifyOne(ctx context.Context, addr string, q hubchain.StatementQuery, l hubchain.StatementLine) error {
	c, err := client.Dial(addr, l.Chain)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	suite, err := crypto.ByName(st.Chains[0].Suite)
	if err != nil {
		return err
	}
	return hubchain.VerifyLine(ctx, c, suite, q.Merchant, l)
}
