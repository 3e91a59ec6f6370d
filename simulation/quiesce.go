package simulation

import "context"

// Quiet reports whether the hub has booked everything every chain did: no
// unsettled payments, every settled epoch booked, every allocation applied
// and every sweep received.
func (cl *Cluster) Quiet(ctx context.Context) (bool, error) {
	for _, u := range cl.Users {
		ok, err := cl.chainQuiet(ctx, u)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (cl *Cluster) chainQuiet(ctx context.Context, u *Chain) (bool, error) {
	for _, h := range cl.Hot {
		s, err := view(ctx, u.Client, shadowContract, "shadowOf", h.Address, cl.Cfg.Asset)
		if err != nil {
			return false, err
		}
		if s[4].(uint64) > 0 { // operations of the open epoch, not yet settled
			return false, nil
		}
	}
	ep, err := view(ctx, u.Client, shadowContract, "epoch")
	if err != nil {
		return false, err
	}
	cs, err := view(ctx, cl.Hub.Client, hubContract, "chainState", u.ID)
	if err != nil {
		return false, err
	}
	return ep[0].(uint64) == cs[0].(uint64) && ep[3].(uint64) == cs[3].(uint64) && ep[4].(uint64) == cs[5].(uint64), nil
}
