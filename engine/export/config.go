package export

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
)

// Config is the `[export.kafka]` table of a node's configuration.
type Config struct {
	// Enabled turns the exporter on; it is off by default.
	Enabled bool `toml:"enabled"`
	// Brokers are the bootstrap brokers, "host:port".
	Brokers []string `toml:"brokers"`
	// TopicPrefix names the topics: <prefix>.blocks, <prefix>.receipts and
	// <prefix>.events.
	TopicPrefix string `toml:"topic_prefix"`
	// CreateTopics creates the three topics at start when they are missing.
	CreateTopics bool `toml:"create_topics"`
	// Partitions and Replication are what created topics get. All of one
	// chain's messages go to one partition, so they keep their order.
	Partitions  int `toml:"partitions"`
	Replication int `toml:"replication"`
	// FromHeight is the first height exported when the chain has no cursor
	// yet (a later start resumes after the cursor); at least 1.
	FromHeight uint64 `toml:"from_height"`
	// MaxBlocks bounds the blocks published in one write.
	MaxBlocks int `toml:"max_blocks"`
}

// DefaultConfig is the exporter's configuration when the table is absent: off.
func DefaultConfig() Config {
	return Config{TopicPrefix: "tally", CreateTopics: true, Partitions: 3, Replication: 1, FromHeight: 1, MaxBlocks: 64}
}

var topicPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// Validate checks the configuration; a disabled exporter's other fields are
// still checked, so that turning it on cannot surprise.
func (c Config) Validate() error {
	if c.Enabled && len(c.Brokers) == 0 {
		return errors.New("export.kafka: enabled without brokers")
	}
	for _, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			return fmt.Errorf("export.kafka: broker %q is not host:port", b)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("export.kafka: broker %q has a bad port", b)
		}
	}
	if !topicPrefix.MatchString(c.TopicPrefix) {
		return fmt.Errorf("export.kafka: topic_prefix %q must be 1 to 200 of A-Z a-z 0-9 . _ -", c.TopicPrefix)
	}
	if c.Partitions < 1 || c.Partitions > 10_000 {
		return fmt.Errorf("export.kafka: partitions %d must be 1..10000", c.Partitions)
	}
	if c.Replication < 1 || c.Replication > 100 {
		return fmt.Errorf("export.kafka: replication %d must be 1..100", c.Replication)
	}
	if c.FromHeight < 1 {
		return errors.New("export.kafka: from_height must be at least 1 (the genesis block is the genesis file)")
	}
	if c.MaxBlocks < 1 || c.MaxBlocks > 10_000 {
		return fmt.Errorf("export.kafka: max_blocks %d must be 1..10000", c.MaxBlocks)
	}
	return nil
}

// Topics returns the blocks, receipts and events topic names.
func (c Config) Topics() (blocks, receipts, events string) {
	return c.TopicPrefix + ".blocks", c.TopicPrefix + ".receipts", c.TopicPrefix + ".events"
}
