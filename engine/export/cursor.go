package export

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tallyhq/tally/engine/storage"
)

// cursorKey is where a chain's database keeps the last exported height.
var cursorKey = storage.CursorKey("export/kafka")

// ReadCursor returns the last height exported from the chain whose
// database is db, or ok false when nothing has been exported yet.
func ReadCursor(db storage.DB) (height uint64, ok bool, err error) {
	v, err := db.Get(cursorKey)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("export.kafka: cursor of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), true, nil
}

func writeCursor(db storage.DB, h uint64) error {
	b := db.NewBatch()
	if err := b.Put(cursorKey, binary.BigEndian.AppendUint64(nil, h)); err != nil {
		b.Discard()
		return err
	}
	return b.Commit()
}

// Rewind makes the next export of the chain whose database is db start at
// height from, which must be between 1 and one past the committed head:
// the exporter publishes every block from there again (consumers
// deduplicate by key; see the package comment). It is for a stopped node
// (an operator re-filling topics that were lost or recreated). It returns
// the cursor it replaced.
func Rewind(db storage.DB, from uint64) (prev uint64, prevOK bool, err error) {
	head, _, err := storage.ReadHead(db)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, false, errors.New("export.kafka: the chain has no blocks: nothing to export again")
	}
	if err != nil {
		return 0, false, err
	}
	if from < 1 || from > head+1 {
		return 0, false, fmt.Errorf("export.kafka: cannot export again from height %d: the chain's blocks run from 1 to %d", from, head)
	}
	if prev, prevOK, err = ReadCursor(db); err != nil {
		return 0, false, err
	}
	return prev, prevOK, writeCursor(db, from-1)
}
