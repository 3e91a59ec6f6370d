package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/tallyhq/tally/router"
	rclient "github.com/tallyhq/tally/router/client"
	"github.com/tallyhq/tally/router/pb"
)

func routerCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "router",
		Short: "Run a stateless router (directory cache, account opening, forwarding, views)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := router.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			key, err := loadKey(cfg.KeyFile, cfg.PasswordFile)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			r, err := router.New(cfg, key, log)
			if err != nil {
				return err
			}
			defer r.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveRouter(ctx, r, cfg, log)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "router.toml", "router config TOML")
	return cmd
}

// serveRouter listens on both addresses before it serves anything, so a
// port that is taken fails the start, and it stops when a server fails.
func serveRouter(ctx context.Context, r *router.Router, cfg *router.Config, log *slog.Logger) error {
	srv := router.NewServer(r)
	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("router gRPC address: %w", err)
	}
	var hlis net.Listener
	if cfg.HTTPAddr != "" {
		if hlis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			lis.Close()
			return fmt.Errorf("router HTTP address: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan error, 2)
	gs := grpc.NewServer(grpc.WaitForHandlers(true), grpc.UnaryInterceptor(r.UnaryInterceptor()))
	pb.RegisterRouterServer(gs, srv)
	go func() {
		if err := gs.Serve(lis); err != nil {
			failed <- fmt.Errorf("router gRPC server: %w", err)
		}
	}()
	defer gs.Stop()
	if hlis != nil {
		hs := &http.Server{Handler: router.HTTPHandler(srv), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(hlis); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("router HTTP server: %w", err)
			}
		}()
		defer hs.Close()
	}
	log.Info("router started", "grpc", lis.Addr().String(), "http", cfg.HTTPAddr, "hub", cfg.Hub.ChainID, "chains", len(cfg.Chains))
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	select {
	case err := <-failed:
		cancel()
		<-ran
		return err
	case err := <-ran:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

func payCmd() *cobra.Command {
	var routerAddr, keyFile, passFile, merchant, amount, asset string
	var decimals int
	cmd := &cobra.Command{
		Use:   "pay",
		Short: "Pay a hot account through a router (the client finds and signs for your chain)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := loadKey(keyFile, passFile)
			if err != nil {
				return err
			}
			m, err := parseAddr("merchant", merchant)
			if err != nil {
				return err
			}
			amt, err := rclient.ParseAmount(amount, decimals)
			if err != nil {
				return err
			}
			c, err := rclient.Dial(routerAddr)
			if err != nil {
				return err
			}
			defer c.Close()
			var ref [32]byte
			rand.Read(ref[:])
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rc, err := c.Pay(ctx, key, m, asset, amt, ref)
			if rc != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "paid %s %s (%s minor units) to %s on %s: tx %s %s in block %d\n",
					amount, asset, amt, m.Hex(), rc.ChainId, rc.TxHash, rc.StatusText, rc.Height)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&routerAddr, "router", "127.0.0.1:7900", "router gRPC address")
	f.StringVar(&keyFile, "from", "", "payer's key file")
	f.StringVar(&passFile, "password-file", "", "file holding the key's passphrase (default $TALLY_PASSWORD)")
	f.StringVar(&merchant, "merchant", "", "hot account address")
	f.StringVar(&amount, "amount", "", "decimal amount, e.g. 1.50")
	f.StringVar(&asset, "asset", "CNY", "asset code")
	f.IntVar(&decimals, "decimals", 2, "the asset's minor-unit decimals")
	return cmd
}
