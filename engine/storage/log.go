package storage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// slogLogger adapts badger's printf-style Logger to log/slog.
type slogLogger struct {
	l   *slog.Logger
	min slog.Level
}

func (s slogLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if level < s.min || !s.l.Enabled(ctx, level) {
		return
	}
	// Badger ends most lines with a newline, which slog would keep.
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	s.l.Log(ctx, level, msg, "component", "badger")
}

func (s slogLogger) Errorf(format string, args ...any)   { s.log(slog.LevelError, format, args) }
func (s slogLogger) Warningf(format string, args ...any) { s.log(slog.LevelWarn, format, args) }
func (s slogLogger) Infof(format string, args ...any)    { s.log(slog.LevelInfo, format, args) }
func (s slogLogger) Debugf(format string, args ...any)   { s.log(slog.LevelDebug, format, args) }
