package simulation

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// Scenario is a TOML file describing a repeatable run. Durations are
// strings such as "20s"; omitted fields keep the defaults.
type Scenario struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	Chains      *int   `toml:"chains"`
	Validators  *int   `toml:"validators"`
	// UserConsensus and UserValidators set the user chains apart from the hub.
	UserConsensus  string          `toml:"user_consensus"`
	UserValidators *int            `toml:"user_validators"`
	Users          *int            `toml:"users"`
	Merchants      *int            `toml:"merchants"`
	ZipfS          *float64        `toml:"zipf_s"`
	HotShare       *float64        `toml:"hot_share"`
	Rate           *int            `toml:"rate"`
	Duration       string          `toml:"duration"`
	Epoch          string          `toml:"epoch_interval"`
	Suite          string          `toml:"suite"`
	Seed           *uint64         `toml:"seed"`
	Baseline       string          `toml:"baseline"`
	Mix            *Mix            `toml:"mix"`
	Faults         []ScenarioFault `toml:"faults"`
}

// ScenarioFault is a fault in a scenario file.
type ScenarioFault struct {
	Kind  string `toml:"kind"`
	At    string `toml:"at"`
	For   string `toml:"for"`
	Chain int    `toml:"chain"`
}

// LoadScenario reads and checks a scenario file; unknown keys are errors.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sc Scenario
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	cfg, err := sc.Config(DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return &sc, nil
}

// Config applies the scenario over base.
func (sc *Scenario) Config(base Config) (Config, error) {
	c := base
	setInt(&c.Chains, sc.Chains)
	setInt(&c.Validators, sc.Validators)
	setInt(&c.UserValidators, sc.UserValidators)
	if sc.UserConsensus != "" {
		c.UserConsensus = sc.UserConsensus
	}
	setInt(&c.Users, sc.Users)
	setInt(&c.Merchants, sc.Merchants)
	setInt(&c.RatePerSec, sc.Rate)
	if sc.ZipfS != nil {
		c.ZipfS = *sc.ZipfS
	}
	if sc.HotShare != nil {
		c.HotShare = *sc.HotShare
	}
	if sc.Seed != nil {
		c.Seed = *sc.Seed
	}
	if sc.Mix != nil {
		c.Mix = *sc.Mix
	}
	if sc.Suite != "" {
		c.Suite = sc.Suite
	}
	if sc.Baseline != "" {
		c.Baseline = sc.Baseline
	}
	var err error
	if c.Duration, err = durationOr(sc.Duration, c.Duration); err != nil {
		return c, err
	}
	if c.EpochInterval, err = durationOr(sc.Epoch, c.EpochInterval); err != nil {
		return c, err
	}
	c.Faults = nil
	for _, f := range sc.Faults {
		at, err1 := durationOr(f.At, 0)
		dur, err2 := durationOr(f.For, 0)
		if err1 != nil || err2 != nil {
			return c, fmt.Errorf("fault %s: bad at/for: %v %v", f.Kind, err1, err2)
		}
		c.Faults = append(c.Faults, Fault{Kind: f.Kind, At: at, For: dur, Chain: f.Chain})
	}
	return c, nil
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func durationOr(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	return time.ParseDuration(s)
}

// Apply layers the scenario under the flags the user set explicitly: flags
// win, the scenario fills the rest, defaults fill what neither names.
func (sc *Scenario) Apply(fromFlags Config, flags *pflag.FlagSet) Config {
	c, _ := sc.Config(DefaultConfig()) // validated by LoadScenario
	flags.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "chains":
			c.Chains = fromFlags.Chains
		case "validators":
			c.Validators = fromFlags.Validators
		case "user-consensus":
			c.UserConsensus = fromFlags.UserConsensus
		case "user-validators":
			c.UserValidators = fromFlags.UserValidators
		case "users":
			c.Users = fromFlags.Users
		case "merchants":
			c.Merchants = fromFlags.Merchants
		case "zipf":
			c.ZipfS = fromFlags.ZipfS
		case "hot-share":
			c.HotShare = fromFlags.HotShare
		case "rate":
			c.RatePerSec = fromFlags.RatePerSec
		case "duration":
			c.Duration = fromFlags.Duration
		case "epoch":
			c.EpochInterval = fromFlags.EpochInterval
		case "suite":
			c.Suite = fromFlags.Suite
		case "seed":
			c.Seed = fromFlags.Seed
		case "baseline":
			c.Baseline = fromFlags.Baseline
		}
	})
	return c
}
