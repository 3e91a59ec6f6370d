package storage

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSlogLoggerFiltersAndForwards(t *testing.T) {
	var buf bytes.Buffer
	l := slogLogger{
		l:   slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		min: slog.LevelWarn,
	}
	l.Debugf("debug %d\n", 1)
	l.Infof("info %d\n", 2)
	l.Warningf("warn %d\n", 3)
	l.Errorf("error %d\n", 4)
	out := buf.String()
	for _, dropped := range []string{"debug 1", "info 2"} {
		if strings.Contains(out, dropped) {
			t.Errorf("%q logged below the minimum level:\n%s", dropped, out)
		}
	}
	for _, kept := range []string{`level=WARN msg="warn 3" component=badger`, `level=ERROR msg="error 4" component=badger`} {
		if !strings.Contains(out, kept) {
			t.Errorf("missing %q in:\n%s", kept, out)
		}
	}
}
