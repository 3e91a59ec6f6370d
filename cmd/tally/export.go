package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/node"
)

// exportCmd is the offline administration of a node's Kafka export: it
// reads and moves the cursors kept in the chains' databases, so the node
// must be stopped.
func exportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Kafka export of a stopped node: where each chain stands, and exporting again from a height",
	}
	var cfgPath string
	status := &cobra.Command{
		Use:   "status",
		Short: "Show each chain's committed head and last exported height",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			cs, err := node.ExportCursors(cfg)
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(cs)
			}
			for _, c := range cs {
				fmt.Fprintln(cmd.OutOrStdout(), describeCursor(c, cfg.Export.Kafka.FromHeight))
			}
			return nil
		},
	}
	var from uint64
	rewind := &cobra.Command{
		Use:   "rewind --from HEIGHT",
		Short: "Have the node's next start publish a chain's blocks again from HEIGHT (consumers deduplicate by key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			id := g.chainID
			if id == "" {
				if len(cfg.Chains) != 1 {
					return errors.New("the node hosts several chains: name one with --chain")
				}
				cs, err := node.ExportCursors(cfg)
				if err != nil {
					return err
				}
				id = cs[0].Chain
			}
			was, err := node.RewindExport(cfg, id, from)
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"chain": id, "from": from, "was": was})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: the next start exports from height %d (was: %s)\n", id, from, describeCursor(was, cfg.Export.Kafka.FromHeight))
			return nil
		},
	}
	rewind.Flags().Uint64Var(&from, "from", 0, "first height to publish again (1 to the head + 1)")
	_ = rewind.MarkFlagRequired("from")
	for _, c := range []*cobra.Command{status, rewind} {
		c.Flags().StringVar(&cfgPath, "config", "", "the node's config TOML")
		_ = c.MarkFlagRequired("config")
	}
	cmd.AddCommand(status, rewind)
	return cmd
}

func describeCursor(c node.ExportCursor, fromHeight uint64) string {
	if !c.Started {
		return fmt.Sprintf("%s: head %d, nothing exported yet (starts at from_height %d)", c.Chain, c.Head, fromHeight)
	}
	return fmt.Sprintf("%s: head %d, exported through %d (%d behind)", c.Chain, c.Head, c.Exported, c.Head-min(c.Head, c.Exported))
}
