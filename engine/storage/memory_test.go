package storage_test

import (
	"testing"

	"github.com/tallyhq/tally/engine/storage"
	"github.com/tallyhq/tally/engine/storage/storagetest"
)

func TestMemory(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.DB { return storage.NewMemory() })
}
