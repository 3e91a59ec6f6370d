package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/client"
	"github.com/tallyhq/tally/engine/crypto"
	"github.com/tallyhq/tally/engine/exec"
	"github.com/tallyhq/tally/engine/ledger"
	"github.com/tallyhq/tally/engine/settlement"
	"github.com/tallyhq/tally/engine/types"
	"github.com/tallyhq/tally/hubchain"
)

var (
	dirABI    = hubchain.NewDirectory()
	hubABI    = hubchain.New()
	ledgerABI = ledger.New()
)

// ErrNoChain is returned for a chain the router has no node for.
var ErrNoChain = errors.New("router: no node configured for that chain")

// MaxAssignCache bounds the cached assignments; the hub stays the truth.
const MaxAssignCache = 1_000_000

// Router routes users to chains and forwards their transactions.
type Router struct {
	hub     *client.Client
	hubID   string
	account *client.Account
	log     *slog.Logger
	batch   time.Duration

	mu       sync.RWMutex
	chains   map[string]*client.Client
	assigned map[common.Address]string
	open     map[string]bool
	rulesVer uint64
	suites   map[string]string

	assignQ chan assignReq
	metrics *metrics
}

type assignReq struct {
	users []common.Address
	reply chan assignResult
}

type assignResult struct {
	chains []string
	err    error
}

// New connects to the hub and the user chains; key signs directory transactions.
func New(cfg *Config, key crypto.PrivateKey, log *slog.Logger) (*Router, error) {
	hub, err := client.Dial(cfg.Hub.Node, cfg.Hub.ChainID)
	if err != nil {
		return nil, err
	}
	r := &Router{hub: hub, hubID: cfg.Hub.ChainID, log: log, batch: time.Duration(cfg.AssignBatchMs) * time.Millisecond,
		account: &client.Account{Key: key, Client: hub, ChainID: cfg.Hub.ChainID}, chains: map[string]*client.Client{},
		assigned: map[common.Address]string{}, open: map[string]bool{}, suites: map[string]string{}, assignQ: make(chan assignReq, 1024),
		metrics: newMetrics()}
	for _, ep := range cfg.Chains {
		if err := r.AddChain(ep); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// AddChain connects the router to a user chain's node (a chain added at runtime).
func (r *Router) AddChain(ep Endpoint) error {
	c, err := client.Dial(ep.Node, ep.ChainID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.chains[ep.ChainID]; old != nil {
		old.Close()
	}
	r.chains[ep.ChainID] = c
	return nil
}

// Close drops the connections.
func (r *Router) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.chains {
		c.Close()
	}
	r.hub.Close()
}

// Run follows the hub's directory events and batches assignments until ctx ends.
func (r *Router) Run(ctx context.Context) error {
	if err := r.refresh(ctx); err != nil {
		return err
	}
	go r.assignLoop(ctx)
	return r.followHub(ctx)
}

func (r *Router) chain(id string) (*client.Client, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := r.chains[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoChain, id)
	}
	return c, nil
}

// refresh reloads the directory's chains and rules version from the hub.
func (r *Router) refresh(ctx context.Context) error {
	out, err := r.view(ctx, r.hub, dirABI, "chains")
	if err != nil {
		return err
	}
	rules, err := r.view(ctx, r.hub, dirABI, "rules")
	if err != nil {
		return err
	}
	ids, open := out[0].([]string), out[1].([]bool)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open = map[string]bool{}
	for i, id := range ids {
		r.open[id] = open[i]
	}
	r.rulesVer = rules[0].(uint64)
	return nil
}

func (r *Router) view(ctx context.Context, c *client.Client, abi *exec.Contract, method string, args ...any) ([]any, error) {
	data, err := abi.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	res, err := c.Call(ctx, common.Address{}, &abi.Addr, data)
	if err != nil {
		return nil, err
	}
	if res.Status != 0 {
		return nil, fmt.Errorf("%s.%s: %s %s", abi.Name, method, res.StatusText, res.RevertReason)
	}
	return abi.Unpack(method, res.Output)
}

// followHub caches Assigned events and refreshes on directory changes.
func (r *Router) followHub(ctx context.Context) error {
	head, err := r.hub.Head(ctx)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		stream, err := r.hub.RPC().SubscribeBlocks(ctx, &pb.SubscribeBlocksRequest{ChainId: r.hubID, FromHeight: head + 1, WithReceipts: true})
		for err == nil {
			var b *pb.Block
			if b, err = stream.Recv(); err == nil {
				r.onHubBlock(ctx, b)
				head = b.Header.Height
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func (r *Router) onHubBlock(ctx context.Context, b *pb.Block) {
	ev := dirABI.Events["Assigned"]
	changed := false
	for _, raw := range b.Receipts {
		rc, err := types.DecodeReceipt(raw)
		if err != nil || rc.Status != types.StatusOK {
			continue
		}
		for _, l := range rc.Logs {
			if l.Address != settlement.DirectoryAddress {
				continue
			}
			if l.Topics[0] != ev.ID {
				changed = true
				continue
			}
			if v, err := ev.Inputs.NonIndexed().Unpack(l.Data); err == nil {
				r.remember(common.BytesToAddress(l.Topics[1][:]), v[0].(string))
			}
		}
	}
	if changed {
		if err := r.refresh(ctx); err != nil {
			r.log.Warn("router: directory refresh failed", "err", err)
		}
	}
}

func (r *Router) remember(u common.Address, chain string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.assigned) >= MaxAssignCache {
		r.assigned = map[common.Address]string{} // the hub stays the truth; start over
	}
	r.assigned[u] = chain
}

// Lookup returns the user's chain and whether it is assigned (false: where
// the rules would send the user now).
func (r *Router) Lookup(ctx context.Context, u common.Address) (string, bool, error) {
	r.mu.RLock()
	c, ok := r.assigned[u]
	r.mu.RUnlock()
	if ok {
		r.metrics.lookups.WithLabelValues("cache").Inc()
		return c, true, nil
	}
	r.metrics.lookups.WithLabelValues("hub").Inc()
	out, err := r.view(ctx, r.hub, dirABI, "chainOf", u)
	if err != nil {
		return "", false, err
	}
	if out[1].(bool) {
		r.remember(u, out[0].(string))
	}
	return out[0].(string), out[1].(bool), nil
}

// Open assigns users through the hub, sharing one transaction per batch window.
func (r *Router) Open(ctx context.Context, users []common.Address) ([]string, error) {
	req := assignReq{users: users, reply: make(chan assignResult, 1)}
	select {
	case r.assignQ <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-req.reply:
		return res.chains, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Router) assignLoop(ctx context.Context) {
	for {
		var batch []assignReq
		select {
		case <-ctx.Done():
			return
		case req := <-r.assignQ:
			batch = append(batch, req)
		}
		deadline := time.After(r.batch)
	collect:
		for n := len(batch[0].users); n < hubchain.MaxAssignBatch; {
			select {
			case req := <-r.assignQ:
				batch, n = append(batch, req), n+len(req.users)
			case <-deadline:
				break collect
			}
		}
		r.assignBatch(ctx, batch)
	}
}

func (r *Router) assignBatch(ctx context.Context, batch []assignReq) {
	var all []common.Address
	for _, b := range batch {
		all = append(all, b.users...)
	}
	chains, err := r.assignOnHub(ctx, all)
	if err != nil {
		r.metrics.assignErrors.Inc()
	}
	for _, b := range batch {
		if err != nil {
			b.reply <- assignResult{err: err}
			continue
		}
		b.reply <- assignResult{chains: chains[:len(b.users)]}
		chains = chains[len(b.users):]
	}
}

func (r *Router) assignOnHub(ctx context.Context, users []common.Address) ([]string, error) {
	var out []string
	for i := 0; i < len(users); i += hubchain.MaxAssignBatch {
		part := users[i:min(i+hubchain.MaxAssignBatch, len(users))]
		data, _ := dirABI.Pack("assign", part)
		rc, err := r.account.Transact(ctx, &dirABI.Addr, data, uint64(100_000+len(part)*6_000+len(data)*16))
		if err != nil {
			return nil, err
		}
		vals, err := dirABI.Unpack("assign", rc.Output)
		if err != nil {
			return nil, err
		}
		got := vals[0].([]string)
		r.metrics.assignTxs.Inc()
		r.metrics.assigned.Add(float64(len(part)))
		for j, u := range part {
			r.remember(u, got[j])
		}
		out = append(out, got...)
	}
	return out, nil
}

// BalanceOf reads a user's balance on the user's chain.
func (r *Router) BalanceOf(ctx context.Context, u common.Address, asset string) (string, *big.Int, error) {
	id, _, err := r.Lookup(ctx, u)
	if err != nil {
		return "", nil, err
	}
	c, err := r.chain(id)
	if err != nil {
		return "", nil, err
	}
	out, err := r.view(ctx, c, ledgerABI, "balanceOf", asset, u)
	if err != nil {
		return "", nil, err
	}
	return id, out[0].(*big.Int), nil
}
