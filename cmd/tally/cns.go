package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/system"
)

var cnsABI = system.NewCNS()

func cnsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cns", Short: "Contract name service: register name+version → address+ABI, resolve"}
	var keyFile, passFile, abiFile string
	reg := &cobra.Command{
		Use:   "register NAME VERSION ADDRESS",
		Short: "Register a contract (DEPLOYER or ADMIN); a name+version is never overwritten",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr("address", args[2])
			if err != nil {
				return err
			}
			abi := ""
			if abiFile != "" {
				b, err := os.ReadFile(abiFile)
				if err != nil {
					return err
				}
				abi = string(b)
			}
			data, err := cnsABI.Pack("register", args[0], args[1], addr, abi)
			if err != nil {
				return err
			}
			return g.transact(cmd, keyFile, passFile, system.CNSAddress, data)
		},
	}
	reg.Flags().StringVar(&keyFile, "key", "", "signer's key file")
	reg.Flags().StringVar(&passFile, "password-file", "", "file holding the key's passphrase")
	reg.Flags().StringVar(&abiFile, "abi", "", "ABI JSON file to store with the name")
	resolve := &cobra.Command{
		Use:   "resolve NAME[:VERSION]",
		Short: "Resolve a name (latest version by default)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, version, abi, err := g.resolveCNS(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s\nabi %s\n", args[0], version, addr.Hex(), abi)
			return nil
		},
	}
	cmd.AddCommand(reg, resolve)
	return cmd
}

// resolveCNS resolves "name" or "name:version".
func (g *globals) resolveCNS(ref string) (common.Address, string, string, error) {
	c, err := g.dial()
	if err != nil {
		return common.Address{}, "", "", err
	}
	defer c.Close()
	name, version, pinned := cutVersion(ref)
	method, args := "resolve", []any{name}
	if pinned {
		method, args = "resolveVersion", []any{name, version}
	}
	data, _ := cnsABI.Pack(method, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.Call(ctx, common.Address{}, &system.CNSAddress, data)
	if err != nil {
		return common.Address{}, "", "", err
	}
	if r.Status != 0 {
		return common.Address{}, "", "", fmt.Errorf("cns: %s", r.RevertReason)
	}
	out, err := cnsABI.Unpack(method, r.Output)
	if err != nil {
		return common.Address{}, "", "", err
	}
	if pinned {
		return out[0].(common.Address), version, out[1].(string), nil
	}
	return out[0].(common.Address), out[1].(string), out[2].(string), nil
}

func cutVersion(ref string) (string, string, bool) {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			return ref[:i], ref[i+1:], true
		}
	}
	return ref, "", false
}
