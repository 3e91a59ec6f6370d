package node

import (
	"errors"
	"fmt"
	"os"

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
		id, err := hostedChainID(cc)
		if err != nil {
			return nil, err
		}
		c := ExportCursor{Chain: id}
		err = withChainDB(cfg, id, func(db storage.DB) error {
			if c.Head, _, err = storage.ReadHead(db); err != nil {
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
	c := ExportCursor{Chain: chainID}
	for _, cc := range cfg.Chains {
		id, err := hostedChainID(cc)
		if err != nil {
			return c, err
		}
		if id != chainID {
			continue
		}
		err = withChainDB(cfg, id, func(db storage.DB) error {
			if c.Head, _, err = storage.ReadHead(db); err != nil {
				return err
			}
			c.Exported, c.Started, err = export.Rewind(db, from)
			return err
		})
		return c, err
	}
	return c, fmt.Errorf("%w: the node hosts no chain %q", ErrConfig, chainID)
}

// hostedChainID is the id of the chain cc configures, from its genesis.
func hostedChainID(cc ChainConfig) (string, error) {
	gen, err := chain.LoadGenesis(cc.Genesis)
	if err != nil {
		return "", fmt.Errorf("chain genesis %s: %w", cc.Genesis, err)
	}
	return gen.ChainID, nil
}

// withChainDB runs f on the database of chain id, which must exist (the
// node has run): offline tools never create one.
func withChainDB(cfg *Config, id string, f func(db storage.DB) error) error {
	dir := chainDir(cfg.DataDir, id)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("chain %s: no database at %s (has the node run?): %w", id, dir, err)
	}
	db, err := storage.OpenBadger(dir, storage.DefaultBadgerOptions())
	if err != nil {
		return fmt.Errorf("chain %s database %s (stop the node first): %w", id, dir, err)
	}
	err = f(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, storage.ErrNotFound) {
		err = errors.New("the database holds no chain")
	}
	if err != nil {
		return fmt.Errorf("chain %s: %w", id, err)
	}
	return nil
}
