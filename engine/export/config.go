package export

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
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

	// TLS encrypts the connections to the brokers.
	TLS bool `toml:"tls"`
	// CAFile is the PEM bundle that signs the brokers' certificates; empty
	// trusts the system's roots.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are this node's client certificate (PEM), for
	// brokers that ask for one.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// SASL is the authentication: "" (none), "plain", "scram-sha-256" or
	// "scram-sha-512"; use it with TLS, or the password crosses in clear.
	SASL     string `toml:"sasl"`
	Username string `toml:"username"`
	// PasswordFile holds the SASL password, so that it is not in the
	// configuration file.
	PasswordFile string `toml:"password_file"`
}

// Resolve makes the file paths in c absolute against dir (the directory of
// the configuration file).
func (c *Config) Resolve(dir string) {
	for _, p := range []*string{&c.CAFile, &c.CertFile, &c.KeyFile, &c.PasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
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
	if !c.TLS && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != "") {
		return errors.New("export.kafka: ca_file, cert_file and key_file need tls = true")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("export.kafka: cert_file and key_file go together")
	}
	switch c.SASL {
	case "":
		if c.Username != "" || c.PasswordFile != "" {
			return errors.New("export.kafka: username and password_file need sasl")
		}
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.Username == "" || c.PasswordFile == "" {
			return fmt.Errorf("export.kafka: sasl %q needs username and password_file", c.SASL)
		}
	default:
		return fmt.Errorf("export.kafka: sasl %q is not plain, scram-sha-256 or scram-sha-512", c.SASL)
	}
	return nil
}

// transport builds the connections' TLS and SASL from the files c names.
func (c Config) transport() (*kafka.Transport, error) {
	t := &kafka.Transport{DialTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	if c.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("export.kafka: ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("export.kafka: ca_file %s holds no PEM certificate", c.CAFile)
			}
		}
		if c.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("export.kafka: client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		t.TLS = tc
	}
	if c.SASL != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("export.kafka: password_file: %w", err)
		}
		pass := strings.TrimRight(string(b), "\r\n")
		if pass == "" {
			return nil, fmt.Errorf("export.kafka: password_file %s is empty", c.PasswordFile)
		}
		switch c.SASL {
		case "plain":
			t.SASL = plain.Mechanism{Username: c.Username, Password: pass}
		default:
			algo := scram.SHA256
			if c.SASL == "scram-sha-512" {
				algo = scram.SHA512
			}
			m, err := scram.Mechanism(algo, c.Username, pass)
			if err != nil {
				return nil, fmt.Errorf("export.kafka: sasl: %w", err)
			}
			t.SASL = m
		}
	}
	return t, nil
}

// Topics returns the blocks, receipts and events topic names.
func (c Config) Topics() (blocks, receipts, events string) {
	return c.TopicPrefix + ".blocks", c.TopicPrefix + ".receipts", c.TopicPrefix + ".events"
}
