package export

// SetMaxWriteBytes lowers the bytes one write may hold, for a test, and
// returns the function that restores it.
func SetMaxWriteBytes(n int) (restore func()) {
	old := maxWriteBytes
	maxWriteBytes = n
	return func() { maxWriteBytes = old }
}
