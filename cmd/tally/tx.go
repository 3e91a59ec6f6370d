package main

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/ledger"
)

func (g *globals) dial() (*client.Client, error) { return client.Dial(g.node, g.chainID) }

// chainOf asks the node which chain the client addresses.
func chainOf(ctx context.Context, c *client.Client) (string, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	if len(st.Chains) != 1 {
		return "", fmt.Errorf("the node hosts %d chains; choose one with --chain", len(st.Chains))
	}
	return st.Chains[0].ChainId, nil
}

func parseAmount(s string) (*big.Int, error) {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok || x.Sign() <= 0 {
		return nil, fmt.Errorf("amount %q must be a positive integer of minor units (e.g. 150 for 1.50)", s)
	}
	return x, nil
}

func parseAddr(flag, s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("--%s %q is not a 0x address", flag, s)
	}
	return common.HexToAddress(s), nil
}

func txCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Ledger transactions: issue, redeem, transfer, balance"}
	cmd.AddCommand(ledgerTx(g, "issue", "Mint to an account (ISSUER)", "to"),
		ledgerTx(g, "redeem", "Burn from an account (ISSUER)", "from"),
		ledgerTx(g, "transfer", "Transfer from the signer to an account", "to"),
		balanceCmd(g))
	return cmd
}

// ledgerTx builds one of the three Ledger write commands.
func ledgerTx(g *globals, method, short, party string) *cobra.Command {
	var keyFile, passFile, asset, who, amount string
	cmd := &cobra.Command{
		Use:   method,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := parseAddr(party, who)
			if err != nil {
				return err
			}
			amt, err := parseAmount(amount)
			if err != nil {
				return err
			}
			data, err := ledger.New().Pack(method, asset, addr, amt)
			if err != nil {
				return err
			}
			return g.transact(cmd, keyFile, passFile, ledger.Address, data)
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "signer's key file")
	cmd.Flags().StringVar(&passFile, "password-file", "", "file holding the key's passphrase (default $TALLY_PASSWORD)")
	cmd.Flags().StringVar(&asset, "asset", "CNY", "asset code")
	cmd.Flags().StringVar(&who, party, "", "account address")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in minor units")
	return cmd
}

func (g *globals) transact(cmd *cobra.Command, keyFile, passFile string, to common.Address, data []byte) error {
	key, err := loadKey(keyFile, passFile)
	if err != nil {
		return err
	}
	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := chainOf(ctx, c)
	if err != nil {
		return err
	}
	acct := &client.Account{Key: key, Client: c, ChainID: id}
	r, err := acct.Transact(ctx, &to, data, 0)
	if r != nil {
		printOut(cmd, g.json, r, fmt.Sprintf("tx %s: %s (block %d, gas %d)", r.TxHash, r.StatusText, r.Height, r.GasUsed))
	}
	return err
}

func balanceCmd(g *globals) *cobra.Command {
	var asset, who string
	cmd := &cobra.Command{
		Use:   "balance",
		Short: "Read an account's balance",
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := parseAddr("address", who)
			if err != nil {
				return err
			}
			data, err := ledger.New().Pack("balanceOf", asset, addr)
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			to := ledger.Address
			r, err := c.Call(context.Background(), addr, &to, data)
			if err != nil {
				return err
			}
			if r.Status != 0 {
				return fmt.Errorf("balanceOf failed: %s %s", r.StatusText, r.RevertReason)
			}
			out, err := ledger.New().Unpack("balanceOf", r.Output)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", out[0].(*big.Int), asset)
			return nil
		},
	}
	cmd.Flags().StringVar(&asset, "asset", "CNY", "asset code")
	cmd.Flags().StringVar(&who, "address", "", "account address")
	return cmd
}
