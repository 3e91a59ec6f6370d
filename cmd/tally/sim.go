package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/gcpolicy"
	"github.com/tallyhq/tally/simulation"
)

// errSimFailed makes the process exit non-zero after printing the report.
var errSimFailed = errors.New("simulation: invariants FAILED")

func simCmd() *cobra.Command {
	cfg := simulation.DefaultConfig()
	var jsonPath, htmlDir, scenario string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the hub, user chains, relay and a workload in one process; report and check invariants",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenario != "" {
				sc, err := simulation.LoadScenario(scenario)
				if err != nil {
					return err
				}
				cfg = sc.Apply(cfg, cmd.Flags())
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			gc, err := gcpolicy.Apply(gcpolicy.Default(), gcpolicy.Host{}) // the nodes' pacing
			if err != nil {
				return err
			}
			var progress io.Writer // a nil interface, not a typed nil, when quiet
			if !quiet {
				progress = os.Stderr
				fmt.Fprintf(os.Stderr, "collector pacing as a node's: %s\n", gc)
				fmt.Fprintf(os.Stderr, "starting %d user chains + hub (%d validators each), %d users, %d merchants, %s of load...\n",
					cfg.Chains, cfg.Validators, cfg.Users, cfg.Merchants, cfg.Duration)
			}
			res, err := simulation.Run(ctx, cfg, progress)
			if err != nil {
				return err
			}
			return report(cmd, res, jsonPath, htmlDir)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Chains, "chains", cfg.Chains, "user chains")
	f.IntVar(&cfg.Validators, "validators", cfg.Validators, "validators per chain (more than 1 runs PBFT)")
	f.StringVar(&cfg.UserConsensus, "user-consensus", "", "user chains' consensus with several validators: pbft (default) or raft")
	f.IntVar(&cfg.UserValidators, "user-validators", 0, "validators per user chain (0: as --validators; the hub keeps --validators)")
	f.IntVar(&cfg.Users, "users", cfg.Users, "users, spread over the chains")
	f.IntVar(&cfg.Merchants, "merchants", cfg.Merchants, "hot accounts (Zipf popularity)")
	f.Float64Var(&cfg.ZipfS, "zipf", cfg.ZipfS, "Zipf exponent (> 1)")
	f.Float64Var(&cfg.HotShare, "hot-share", cfg.HotShare, "fraction of payments to merchant 0 (0: Zipf only)")
	f.IntVar(&cfg.RatePerSec, "rate", cfg.RatePerSec, "offered load in tx/s (0: closed loop at maximum)")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long load is offered")
	f.DurationVar(&cfg.EpochInterval, "epoch", cfg.EpochInterval, "settlement epoch interval")
	f.StringVar(&cfg.Suite, "suite", cfg.Suite, "crypto suite: secp256k1 or sm")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the workload and faults")
	f.StringVar(&cfg.Baseline, "baseline", "", "single-chain: everyone on one chain, no shadows")
	f.StringVar(&jsonPath, "json", "", "write the report as JSON to this file ('-' for stdout)")
	f.StringVar(&htmlDir, "html", "", "write a self-contained HTML report into this directory")
	f.StringVar(&scenario, "scenario", "", "TOML scenario file (flags given explicitly override it)")
	f.BoolVar(&quiet, "quiet", false, "no progress output")
	cmd.AddCommand(capacityCmd())
	return cmd
}

func capacityCmd() *cobra.Command {
	cfg := simulation.DefaultConfig()
	var perChain, hub float64
	var counts []int
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Measure one chain's capacity, then 1, 2, 4 … chains at a fixed per-chain load against the capacity model",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := gcpolicy.Apply(gcpolicy.Default(), gcpolicy.Host{}); err != nil { // the nodes' pacing
				return err
			}
			rep, err := simulation.MeasureCapacity(context.Background(), cfg, perChain, counts, hub)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "model: %s\n", rep.Model)
			fmt.Fprintf(out, "%6s %10s %10s %10s %8s %8s %s\n", "chains", "offered", "measured", "predicted", "ratio", "p99 ms", "invariants")
			for _, r := range rep.Rows {
				fmt.Fprintf(out, "%6d %10.0f %10.0f %10.0f %8.2f %8.0f %v\n", r.Chains, r.OfferedTPS, r.MeasuredTPS, r.PredictedTPS, r.Ratio, r.LatencyP99Ms, r.InvariantsOK)
			}
			fmt.Fprintf(out, "N chains on N machines: %.0f tx/s per chain, so %d chains ≈ %.0f tx/s (hub-bound at %d chains)\n",
				rep.Model.PerChainTPS, 8, rep.Model.Distributed(8), rep.Model.MaxChains())
			return nil
		},
	}
	f := cmd.Flags()
	f.Float64Var(&perChain, "per-chain", 200, "fixed offered load per chain, tx/s")
	f.IntSliceVar(&counts, "chains", []int{1, 2, 4}, "chain counts to measure")
	f.Float64Var(&hub, "hub-bookings", 100, "hub bookings/s, from go test -bench HubBooking ./relay/")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "load per measurement")
	f.IntVar(&cfg.Users, "users", 800, "users")
	f.IntVar(&cfg.Merchants, "merchants", 5, "merchants")
	return cmd
}

func report(cmd *cobra.Command, res *simulation.Result, jsonPath, htmlDir string) error {
	res.WriteTable(cmd.OutOrStdout())
	if jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if jsonPath == "-" {
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
		} else if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if htmlDir != "" {
		path, err := res.WriteHTML(htmlDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "HTML report: %s\n", path)
	}
	if !res.Pass {
		return errSimFailed
	}
	return nil
}
