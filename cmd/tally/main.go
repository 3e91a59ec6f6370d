// Command tally is the one Tally binary: node, keys, transactions, queries,
// and (as the project grows) the consortium tooling and the simulator.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// globals are the flags every client command shares.
type globals struct {
	node    string
	chainID string
	json    bool
}

func rootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "tally",
		Short:         "Tally: hot-account settlement over parallel blockchains",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.node, "node", "127.0.0.1:7700", "node gRPC address")
	root.PersistentFlags().StringVar(&g.chainID, "chain", "", "chain id (empty: the node's only chain)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON")
	root.AddCommand(nodeCmd(), keysCmd(), txCmd(g), blockCmd(g), receiptCmd(g), statusCmd(g), benchCmd(g), hubCmd(g), simCmd(), routerCmd(), payCmd(), relayCmd(), netCmd(), cnsCmd(g), contractCmd(g), caCmd(), exportCmd(g))
	return root
}
