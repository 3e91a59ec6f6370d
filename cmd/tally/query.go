package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/proof"
	"github.com/tallyhq/tally/engine/types"
)

func printOut(cmd *cobra.Command, asJSON bool, m proto.Message, text string) {
	if asJSON {
		b, _ := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(m)
		fmt.Fprintln(cmd.OutOrStdout(), string(b))
		return
	}
	fmt.Fprintln(cmd.OutOrStdout(), text)
}

func blockCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "block [HEIGHT|latest]",
		Short: "Show a block",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &pb.GetBlockRequest{ChainId: g.chainID, Latest: true}
			if len(args) == 1 && args[0] != "latest" {
				h, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil {
					return fmt.Errorf("height %q is not a number", args[0])
				}
				req.Latest, req.By = false, &pb.GetBlockRequest_Height{Height: h}
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			b, err := c.RPC().GetBlock(context.Background(), req)
			if err != nil {
				return err
			}
			h := b.Header
			printOut(cmd, g.json, b, fmt.Sprintf("block %d %s\n  parent %s\n  time %s  txs %d  gas %d\n  state root %s\n  certified %v",
				h.Height, h.Hash, h.ParentHash, time.UnixMilli(int64(h.TimestampMs)).UTC().Format(time.RFC3339Nano),
				h.TxCount, h.GasUsed, h.StateRoot, len(b.Certificate) > 0))
			return nil
		},
	}
}

func receiptCmd(g *globals) *cobra.Command {
	var withProof bool
	var genesisPath string
	cmd := &cobra.Command{
		Use:   "receipt TXHASH",
		Short: "Show a receipt; --proof fetches and verifies its Merkle proof",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			req := &pb.GetByHashRequest{ChainId: g.chainID, Hash: args[0]}
			if !withProof {
				r, err := c.RPC().GetReceipt(context.Background(), req)
				if err != nil {
					return err
				}
				printOut(cmd, g.json, r, fmt.Sprintf("tx %s: %s in block %d (index %d, gas %d) %s", r.TxHash, r.StatusText, r.Height, r.Index, r.GasUsed, r.RevertReason))
				return nil
			}
			p, err := c.ReceiptProof(context.Background(), common.HexToHash(args[0]))
			if err != nil {
				return err
			}
			suite, err := suiteOf(c)
			if err != nil {
				return err
			}
			return verifyProofCmd(cmd, suite, p, genesisPath)
		},
	}
	cmd.Flags().BoolVar(&withProof, "proof", false, "fetch the receipt's proof and verify it")
	cmd.Flags().StringVar(&genesisPath, "genesis", "", "genesis TOML whose validators are trusted, to verify the certificate too")
	return cmd
}

// verifyProofCmd checks the Merkle branch against the header alone, and the
// header's certificate when a trusted genesis is given.
func verifyProofCmd(cmd *cobra.Command, suite crypto.Suite, p *proof.Receipt, genesisPath string) error {
	h, err := types.DecodeHeader(p.Header)
	if err != nil {
		return err
	}
	r, err := proof.VerifyReceiptInHeader(suite, h, p.Receipt, p.Branch)
	if err != nil {
		return fmt.Errorf("proof does NOT verify against header %d: %w", h.Height, err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "receipt of tx %s (status %s) is leaf %d of %d under receipt root %s of block %d %s: VERIFIED\n",
		r.TxHash.Hex(), r.Status, p.Branch.Index, p.Branch.Size, h.ReceiptRoot.Hex(), h.Height, h.Hash(suite).Hex())
	fmt.Fprintf(out, "proof (hex): %x\n", p.Encode())
	if genesisPath == "" {
		fmt.Fprintln(out, "certificate not checked: pass --genesis to trust that chain's validators")
		return nil
	}
	gen, err := chain.LoadGenesis(genesisPath)
	if err != nil {
		return err
	}
	if gen.ChainID != h.ChainID || gen.Suite != suite.Name() {
		return fmt.Errorf("genesis %s is for chain %s/%s, the proof for %s/%s", genesisPath, gen.ChainID, gen.Suite, h.ChainID, suite.Name())
	}
	vs, err := gen.ValidatorSet(suite)
	if err != nil {
		return err
	}
	rule := quorumRule(gen.Consensus)
	if _, _, err := proof.VerifyReceipt(suite, vs, rule, p); err != nil {
		return fmt.Errorf("certificate does NOT verify (%s quorum of a %s chain): %w", rule, gen.Consensus, err)
	}
	fmt.Fprintf(out, "certificate: quorum of genesis validators: VERIFIED (%s rule, %s chain)\n", rule, gen.Consensus)
	return nil
}

func statusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the node's chains",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := c.Status(ctx)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("node %s (tally %s)", st.NodeId, st.Version)
			for _, ch := range st.Chains {
				text += fmt.Sprintf("\n  %s  %s/%s  height %d  pending %d  validators %d  halted %v",
					ch.ChainId, ch.Consensus, ch.Suite, ch.Height, ch.PendingTxs, ch.Validators, ch.Halted)
				if ch.ConsensusRole != "" {
					text += "  role " + ch.ConsensusRole
				}
				if ch.Leader != "" {
					text += "  leader " + ch.Leader
				}
			}
			printOut(cmd, g.json, st, text)
			return nil
		},
	}
}

// suiteOf asks the node which crypto suite the chain uses.
func suiteOf(c *client.Client) (crypto.Suite, error) {
	st, err := c.Status(context.Background())
	if err != nil {
		return nil, err
	}
	if len(st.Chains) != 1 {
		return nil, fmt.Errorf("the node hosts %d chains; choose one with --chain", len(st.Chains))
	}
	return crypto.ByName(st.Chains[0].Suite)
}
