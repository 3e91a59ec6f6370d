package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/export"
	"github.com/tallyhq/tally/engine/storage"
)

// ExportCursor is where the Kafka export of a hosted chain stands.
type ExportCursor struct {
	Chain string `json:"chain"`
	// Head is the chain's committed height.
	Head uint64 `json:"head"`
	// Exported is the last height Kafka acknowledged, when Started.
	Exported uint64 `json:"exported"`
	// Started is false while nothing has been exported: the export then
	// starts at export.kafka.from_height.
	Started bool `json:"started"`
}

// ExportCursors reports the Kafka export of every chain cfg hosts, read
// from the chains' databases: the node must be stopped (a running node
// holds them; its tally_export_kafka_height metric says the same).
func ExportCursors(cfg *Config) ([]ExportCursor, error) {
	var out []ExportCursor
	for _, cc := range cfg.Chains {
		var c ExportCursor
		err := withChainDB(cfg, cc, func(id string, db storage.DB) error {
			c.Chain = id
			var err error
			if c.Head, err = headOf(db); err != nil {
				return err
			}
			c.Exported, c.Started, err = export.ReadCursor(db)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RewindExport makes the next start of the node export chainID again from
// height from (see export.Rewind), and returns the cursor as it was. The
// node must be stopped.
func RewindExport(cfg *Config, chainID string, from uint64) (ExportCursor, error) {
	var c ExportCursor
	found := false
	for _, cc := range cfg.Chains {
		gen, err := chain.LoadGenesis(cc.Genesis)
		if err != nil {
			return c, fmt.Errorf("chain genesis %s: %w", cc.Genesis, err)
		}
		if gen.ChainID != chainID {
			continue
		}
		found = true
		err = withChainDB(cfg, cc, func(id string, db storage.DB) error {
			c.Chain = id
			var err error
			if c.Head, err = headOf(db); err != nil {
				return err
			}
			c.Exported, c.Started, err = export.Rewind(db, from)
			return err
		})
		if err != nil {
			return c, err
		}
	}
	if !found {
		return c, fmt.Errorf("%w: the node hosts no chain %q", ErrConfig, chainID)
	}
	return c, nil
}

// withChainDB runs f on the database of the chain cc configures, which
// must exist (the node has run): offline tools never create one.
func withChainDB(cfg *Config, cc ChainConfig, f func(chainID string, db storage.DB) error) error {
	gen, err := chain.LoadGenesis(cc.Genesis)
	if err != nil {
		return fmt.Errorf("chain genesis %s: %w", cc.Genesis, err)
	}
	dir := filepath.Join(cfg.DataDir, "chains", gen.ChainID)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("chain %s: no database at %s (has the node run?): %w", gen.ChainID, dir, err)
	}
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		return fmt.Errorf("chain %s database %s (stop the node first): %w", gen.ChainID, dir, err)
	}
	err = f(gen.ChainID, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("chain %s: %w", gen.ChainID, err)
	}
	return nil
}

// headOf reads the committed height from a chain's database.
func headOf(db storage.DB) (uint64, error) {
	v, err := db.Get(storage.KeyHead)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, errors.New("the database holds no chain")
	}
	if err != nil {
		return 0, err
	}
	h, _, err := storage.DecodeHead(v)
	return h, err
}
