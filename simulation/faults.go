package simulation

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// injectFaults runs the configured faults at their times.
func (s *sim) injectFaults(ctx context.Context) {
	faults := append([]Fault(nil), s.cfg.Faults...)
	sort.Slice(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
	for _, f := range faults {
		sleepCtx(ctx, time.Until(s.started.Add(f.At)))
		if ctx.Err() != nil {
			return
		}
		detail, err := s.inject(ctx, f)
		if err != nil {
			detail = "failed: " + err.Error()
		}
		s.mu.Lock()
		s.faults = append(s.faults, FaultRecord{Kind: f.Kind, AtSec: time.Since(s.started).Seconds(), Detail: detail})
		s.mu.Unlock()
	}
}

func (s *sim) inject(ctx context.Context, f Fault) (string, error) {
	switch f.Kind {
	case "restart-node":
		u := s.cl.Users[f.Chain]
		if err := s.cl.RestartNode(u, f.For); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s's node killed, restarted from disk after %s", u.ID, f.For), nil
	case "add-chain":
		u, err := s.cl.AddUserChain(context.WithoutCancel(ctx))
		if err != nil {
			return "", err
		}
		s.followChain(s.followCtx, u)
		s.stopRelay() // the relay's chain list is fixed at start: restart it with the new chain
		if err := s.startRelay(context.WithoutCancel(ctx)); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s added with %d users; new load reaches it, the relay follows it", u.ID, len(u.Users)), nil
	case "partition":
		u := s.cl.UserChains()[f.Chain]
		v := u.Keys[len(u.Keys)-1].Address() // the last validator; clients talk to validator 0
		s.cl.Net.Isolate(v, true)
		sleepCtx(context.WithoutCancel(ctx), f.For)
		s.cl.Net.Isolate(v, false)
		return fmt.Sprintf("validator %s of %s cut off for %s, then reconnected", v.Hex()[:10], u.ID, f.For), nil
	case "drop-messages":
		s.cl.Net.SetFaults(0.2, 50*time.Millisecond)
		sleepCtx(context.WithoutCancel(ctx), f.For)
		s.cl.Net.SetFaults(0, 0)
		return fmt.Sprintf("20%% of consensus messages dropped and the rest delayed up to 50 ms for %s", f.For), nil
	case "crash-relay":
		s.stopRelay()
		return "relay stopped mid-flight and restarted from its cursors", s.startRelay(ctx)
	default: // pause-relay
		s.stopRelay()
		sleepCtx(ctx, f.For)
		return fmt.Sprintf("relay held back for %s", f.For), s.startRelay(context.WithoutCancel(ctx))
	}
}
