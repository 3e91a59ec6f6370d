package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/relay"
)

func relayCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run the relay: settle user chains, carry summaries and packets with proofs, follow validator changes",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := relay.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			key, err := loadKey(cfg.KeyFile, cfg.PasswordFile)
			if err != nil {
				return err
			}
			db, err := storage.OpenBadger(cfg.DataDir, storage.DefaultBadgerOptions())
			if err != nil {
				return err
			}
			defer db.Close()
			hub, users, err := relayEndpoints(cfg, key)
			if err != nil {
				return err
			}
			opts := relay.DefaultOptions()
			opts.EpochInterval = cfg.Interval()
			opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
			sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithCancelCause(sig)
			defer cancel(nil)
			r := relay.New(hub, users, db, opts)
			if cfg.HTTPAddr != "" {
				failed, err := r.Serve(ctx, cfg.HTTPAddr)
				if err != nil {
					return err
				}
				go func() {
					select {
					case err := <-failed:
						cancel(err) // no metrics: stop, as a node whose API fails does
					case <-ctx.Done():
					}
				}()
			}
			opts.Log.Info("relay started", "hub", cfg.Hub.ChainID, "users", len(users), "epoch", opts.EpochInterval, "http", cfg.HTTPAddr)
			err = r.Run(ctx)
			if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
				return cause
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "relay.toml", "relay config TOML")
	return cmd
}

func relayEndpoints(cfg *relay.Config, key crypto.PrivateKey) (*relay.Endpoint, []*relay.Endpoint, error) {
	dial := func(ep relay.ChainEndpoint) (*relay.Endpoint, error) {
		c, err := client.Dial(ep.Node, ep.ChainID)
		if err != nil {
			return nil, err
		}
		return relay.NewEndpoint(c, ep.ChainID, key), nil
	}
	hub, err := dial(cfg.Hub)
	if err != nil {
		return nil, nil, err
	}
	var users []*relay.Endpoint
	for _, u := range cfg.Users {
		ep, err := dial(u)
		if err != nil {
			return nil, nil, err
		}
		users = append(users, ep)
	}
	return hub, users, nil
}
