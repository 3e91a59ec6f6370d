package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/p2p/ca"
)

func caCmd() *cobra.Command {
	c := &cobra.Command{Use: "ca", Short: "Consortium CA: admit nodes to the p2p network and revoke them"}
	c.AddCommand(&cobra.Command{
		Use: "init CA-DIR", Short: "Create the consortium CA", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := ca.InitCA(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %q in %s; keep %s offline\n", a.Cert.Subject.CommonName, args[0], ca.CAKeyFile)
			return nil
		},
	})
	var hosts []string
	issue := &cobra.Command{
		Use: "issue-node CA-DIR OUT-DIR NAME", Short: "Issue a node's TLS certificate (its p2p node id)", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			iss, err := ca.IssueNode(args[0], args[1], args[2], hosts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node   %s\nid     %s\nserial %s\ndir    %s\n", args[2], iss.ID, iss.Serial.Text(16), args[1])
			return nil
		},
	}
	issue.Flags().StringSliceVar(&hosts, "host", nil, "extra SAN, an IP or DNS name (repeatable)")
	c.AddCommand(issue)
	c.AddCommand(&cobra.Command{
		Use: "revoke CA-DIR SERIAL|CERT-FILE", Short: "Revoke a node certificate", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			serial, err := ca.Revoke(args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s; copy %s into every node's TLS directory\n", serial.Text(16), filepath.Join(args[0], ca.CRLFile))
			return nil
		},
	})
	return c
}
