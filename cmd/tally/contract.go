package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/contracts"
	"github.com/tallyhq/tally/engine/client"
)

func contractCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Deploy and call EVM contracts (compiled artifacts by name, or ABI/bin files)"}
	var keyFile, passFile, abiRef, binFile, to string
	var args []string
	var gas uint64
	deploy := &cobra.Command{
		Use:   "deploy NAME|--bin FILE",
		Short: "Deploy a contract (DEPLOYER role); prints its address",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			name := abiRef
			if len(pos) == 1 {
				name = pos[0]
			}
			a, code, err := artifact(name, binFile)
			if err != nil {
				return err
			}
			ctorArgs, err := convertArgs(a.Constructor.Inputs, args)
			if err != nil {
				return err
			}
			enc, err := a.Pack("", ctorArgs...)
			if err != nil {
				return err
			}
			r, err := g.send(keyFile, passFile, nil, append(code, enc...), gas)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deployed %s at %s (tx %s, block %d, gas %d)\n", name, r.ContractAddress, r.TxHash, r.Height, r.GasUsed)
			return nil
		},
	}
	call := func(write bool) *cobra.Command {
		use, short := "call", "Read-only call of a contract method"
		if write {
			use, short = "send", "Send a transaction calling a contract method"
		}
		return &cobra.Command{
			Use:   use + " METHOD",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, pos []string) error {
				return g.contractCall(cmd, write, keyFile, passFile, abiRef, to, pos[0], args, gas)
			},
		}
	}
	for _, c := range []*cobra.Command{deploy, call(false), call(true)} {
		c.Flags().StringVar(&keyFile, "key", "", "signer's key file")
		c.Flags().StringVar(&passFile, "password-file", "", "file holding the key's passphrase")
		c.Flags().StringVar(&abiRef, "abi", "", "compiled contract name (e.g. Token) or an ABI JSON file")
		c.Flags().StringArrayVar(&args, "arg", nil, "an argument, in order (repeat); bytes as 0x hex, numbers in decimal")
		c.Flags().Uint64Var(&gas, "gas", 3_000_000, "gas limit")
		cmd.AddCommand(c)
	}
	deploy.Flags().StringVar(&binFile, "bin", "", "creation bytecode file (hex), with --abi FILE")
	for _, c := range cmd.Commands() {
		if c != deploy {
			c.Flags().StringVar(&to, "to", "", "contract address, or a CNS name[:version]")
		}
	}
	return cmd
}

// artifact loads an ABI and bytecode by compiled name or from files.
func artifact(name, binFile string) (abi.ABI, []byte, error) {
	a, err := loadABI(name)
	if err != nil {
		return abi.ABI{}, nil, err
	}
	if binFile == "" {
		code, err := contracts.Bytecode(name)
		return a, code, err
	}
	b, err := os.ReadFile(binFile)
	if err != nil {
		return abi.ABI{}, nil, err
	}
	code, err := hexutil.Decode("0x" + strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
	return a, code, err
}

func loadABI(ref string) (abi.ABI, error) {
	if ref == "" {
		return abi.ABI{}, fmt.Errorf("--abi is required: a compiled contract name (%s) or an ABI file", strings.Join(contracts.Names(), ", "))
	}
	if f, err := os.Open(ref); err == nil {
		defer f.Close()
		return abi.JSON(f)
	}
	return contracts.ABI(ref)
}

// convertArgs turns strings into the Go values the ABI packer wants.
func convertArgs(in abi.Arguments, args []string) ([]any, error) {
	if len(args) != len(in) {
		return nil, fmt.Errorf("%d arguments given, the method takes %d (%s)", len(args), len(in), argTypes(in))
	}
	out := make([]any, len(args))
	for i, a := range args {
		v, err := convertArg(in[i].Type, a)
		if err != nil {
			return nil, fmt.Errorf("argument %d (%s): %w", i, in[i].Type, err)
		}
		out[i] = v
	}
	return out, nil
}

func argTypes(in abi.Arguments) string {
	var ts []string
	for _, a := range in {
		ts = append(ts, a.Type.String())
	}
	return strings.Join(ts, ", ")
}

func convertArg(t abi.Type, s string) (any, error) {
	switch t.T {
	case abi.StringTy:
		return s, nil
	case abi.AddressTy:
		if !common.IsHexAddress(s) {
			return nil, fmt.Errorf("%q is not an address", s)
		}
		return common.HexToAddress(s), nil
	case abi.BoolTy:
		return strconv.ParseBool(s)
	case abi.UintTy, abi.IntTy:
		x, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("%q is not a decimal integer", s)
		}
		if t.Size > 64 {
			return x, nil
		}
		return smallInt(t, x)
	case abi.BytesTy:
		return hexutil.Decode(s)
	case abi.FixedBytesTy:
		b, err := hexutil.Decode(s)
		if err != nil || len(b) != t.Size || t.Size != 32 {
			return nil, fmt.Errorf("want 0x and %d bytes (bytes32 only)", t.Size)
		}
		return [32]byte(b), nil
	}
	return nil, fmt.Errorf("type %s is not supported on the command line", t)
}

func smallInt(t abi.Type, x *big.Int) (any, error) {
	if t.T == abi.UintTy {
		if !x.IsUint64() {
			return nil, fmt.Errorf("%s out of range", x)
		}
		v := x.Uint64()
		switch t.Size {
		case 8:
			return uint8(v), nil
		case 16:
			return uint16(v), nil
		case 32:
			return uint32(v), nil
		}
		return v, nil
	}
	if !x.IsInt64() {
		return nil, fmt.Errorf("%s out of range", x)
	}
	v := x.Int64()
	switch t.Size {
	case 8:
		return int8(v), nil
	case 16:
		return int16(v), nil
	case 32:
		return int32(v), nil
	}
	return v, nil
}

type sendResult struct {
	TxHash, ContractAddress string
	Height, GasUsed         uint64
	Output                  []byte
}

// send signs and sends a transaction (to nil deploys) and waits for success.
func (g *globals) send(keyFile, passFile string, to *common.Address, data []byte, gas uint64) (*sendResult, error) {
	key, err := loadKey(keyFile, passFile)
	if err != nil {
		return nil, err
	}
	c, err := g.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := chainOf(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := (&client.Account{Key: key, Client: c, ChainID: id}).Transact(ctx, to, data, gas)
	if err != nil {
		return nil, err
	}
	return &sendResult{TxHash: r.TxHash, ContractAddress: r.ContractAddress, Height: r.Height, GasUsed: r.GasUsed, Output: r.Output}, nil
}

func (g *globals) contractCall(cmd *cobra.Command, write bool, keyFile, passFile, abiRef, to, method string, args []string, gas uint64) error {
	a, err := loadABI(abiRef)
	if err != nil {
		return err
	}
	m, ok := a.Methods[method]
	if !ok {
		return fmt.Errorf("%s has no method %q", abiRef, method)
	}
	addr, err := g.target(to)
	if err != nil {
		return err
	}
	vals, err := convertArgs(m.Inputs, args)
	if err != nil {
		return err
	}
	data, err := a.Pack(method, vals...)
	if err != nil {
		return err
	}
	var out []byte
	if write {
		r, err := g.send(keyFile, passFile, &addr, data, gas)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "tx %s ok in block %d (gas %d)\n", r.TxHash, r.Height, r.GasUsed)
		out = r.Output
	} else if out, err = g.readOnly(addr, data); err != nil {
		return err
	}
	res, err := m.Outputs.Unpack(out)
	if err != nil || len(res) == 0 {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

// target resolves an address or a CNS name[:version].
func (g *globals) target(to string) (common.Address, error) {
	if common.IsHexAddress(to) {
		return common.HexToAddress(to), nil
	}
	if to == "" {
		return common.Address{}, fmt.Errorf("--to is required: an address or a CNS name")
	}
	addr, _, _, err := g.resolveCNS(to)
	return addr, err
}

func (g *globals) readOnly(to common.Address, data []byte) ([]byte, error) {
	c, err := g.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.Call(context.Background(), common.Address{}, &to, data)
	if err != nil {
		return nil, err
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("call failed: %s: %s", r.StatusText, r.RevertReason)
	}
	return r.Output, nil
}
