// Package export publishes a chain's committed blocks, receipts and decoded
// precompile events to Kafka (segmentio/kafka-go).
//
// Delivery is at least once and in order: the exporter publishes the blocks
// after its cursor, one write of at most MaxBlocks blocks at a time, waits
// for every in-sync replica to acknowledge (RequireAll), and only then
// stores the new cursor in the chain's own database. A crash between the two
// publishes the same messages again, with the same keys and the same bytes,
// so consumers (and compacted topics) deduplicate by key:
//
//	<prefix>.blocks    key <chain>/<height>
//	<prefix>.receipts  key <chain>/<tx hash>
//	<prefix>.events    key <chain>/<height>/<tx index>/<log index>
//
// Every message of one chain goes to the same partition of its topic (the
// partition is chosen from the chain id), so a consumer reads a chain's
// blocks, receipts and events each in height order; the three topics are
// not ordered with each other (a block's tx_hashes say which receipts to
// wait for). Values are JSON (see BlockMsg, ReceiptMsg and
// EventMsg); headers carry the chain, the height and the message type.
package export

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/storage"
)

// Exporter follows one chain and publishes what it commits.
type Exporter struct {
	cfg   Config
	chain *chain.Chain
	db    storage.DB
	log   *slog.Logger
	w     *kafka.Writer
	tr    *kafka.Transport
	dec   *decoder

	// Exported reports each height once its messages are acknowledged and
	// its cursor stored (for metrics); it may be nil.
	Exported func(height uint64)
}

// New makes an exporter of c, whose database is db, to the brokers in cfg.
func New(cfg Config, c *chain.Chain, db storage.DB, log *slog.Logger) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("export.kafka: no brokers")
	}
	tr, err := cfg.transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Transport:    tr,
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     chainBalancer{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1 << 20, // a write is flushed when the call has handed over all its messages
		// A record batch above the broker's message.max.bytes (1 MiB by
		// default) is refused whole; the writer splits larger writes.
		BatchBytes:   1 << 20,
		BatchTimeout: 5 * time.Millisecond,
		MaxAttempts:  3,
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
	}
	return &Exporter{cfg: cfg, chain: c, db: db, log: log.With("export", "kafka", "chain", c.ID()), w: w, tr: tr, dec: newDecoder(c.Executor())}, nil
}

// Cursor returns the last exported height, or ok false when nothing has
// been exported yet.
func (e *Exporter) Cursor() (height uint64, ok bool, err error) { return ReadCursor(e.db) }

func (e *Exporter) setCursor(h uint64) error { return writeCursor(e.db, h) }

// next is the first height still to export.
func (e *Exporter) next() (uint64, error) {
	h, ok, err := e.Cursor()
	if err != nil || !ok {
		return e.cfg.FromHeight, err
	}
	return h + 1, nil
}

// Run exports until ctx ends. Failures (a broker down, a topic missing) are
// logged and retried from the cursor with a growing pause: nothing is
// skipped. It closes the exporter's connections when it returns.
func (e *Exporter) Run(ctx context.Context) {
	defer e.tr.CloseIdleConnections()
	defer e.w.Close()
	backoff := time.Second
	created := !e.cfg.CreateTopics
	for {
		changed := e.chain.HeadChanged()
		var err error
		if !created {
			if err = e.createTopics(ctx); err == nil {
				created = true
			}
		}
		if err == nil {
			err = e.catchUp(ctx)
		}
		if err == nil {
			backoff = time.Second
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		e.log.Warn("export failed; retrying", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// catchUp publishes every committed block after the cursor.
func (e *Exporter) catchUp(ctx context.Context) error {
	for {
		from, err := e.next()
		if err != nil {
			return err
		}
		head := e.chain.Head().Height
		if from > head {
			return nil
		}
		to := min(head, from+uint64(e.cfg.MaxBlocks)-1)
		if err := e.publish(ctx, from, to); err != nil {
			return err
		}
	}
}

// maxWriteBytes bounds the message bytes one write holds in memory: a
// chain catching up on full blocks ends a write early (after at least one
// whole block) rather than building max_blocks of them.
var maxWriteBytes = 16 << 20

// publish writes blocks [from, to], or fewer once maxWriteBytes is passed,
// and then stores the cursor at the last block written.
func (e *Exporter) publish(ctx context.Context, from, to uint64) error {
	var msgs []kafka.Message
	size := 0
	for h := from; h <= to; h++ {
		m, err := e.messages(h)
		if err != nil {
			return fmt.Errorf("block %d: %w", h, err)
		}
		msgs = append(msgs, m...)
		for _, x := range m {
			size += len(x.Key) + len(x.Value)
		}
		if size >= maxWriteBytes {
			to = h
			break
		}
	}
	if err := e.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("publish blocks %d..%d: %w", from, to, err)
	}
	if err := e.setCursor(to); err != nil {
		return fmt.Errorf("store cursor %d: %w", to, err)
	}
	if e.Exported != nil {
		e.Exported(to)
	}
	return nil
}

// createTopics creates the three topics, leaving existing ones as they are.
func (e *Exporter) createTopics(ctx context.Context) error {
	blocks, receipts, events := e.cfg.Topics()
	req := &kafka.CreateTopicsRequest{}
	for _, t := range []string{blocks, receipts, events} {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: e.cfg.Partitions, ReplicationFactor: e.cfg.Replication})
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(e.cfg.Brokers...), Timeout: 10 * time.Second, Transport: e.tr}
	resp, err := cl.CreateTopics(cctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for t, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}

// chainBalancer sends every message of one chain to one partition: the
// chain id is the key up to its first '/'.
type chainBalancer struct{}

func (chainBalancer) Balance(msg kafka.Message, partitions ...int) int {
	id, _, _ := strings.Cut(string(msg.Key), "/")
	h := fnv.New32a()
	h.Write([]byte(id))
	return partitions[int(h.Sum32()%uint32(len(partitions)))]
}
