// Package logging writes slog records as the JSON lines Cloud Logging
// understands (severity, message, trace), so logs from every function can be
// searched by event, function and request without parsing text.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
)

// TraceKey is the field Cloud Logging reads a log line's trace from.
const TraceKey = "logging.googleapis.com/trace"

// New returns a logger writing JSON to w with the function's name on every
// line. Level DEBUG is enabled when LOG_LEVEL=debug.
func New(w io.Writer, function string) *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: cloudLogging})
	return slog.New(h).With("function", function)
}

func cloudLogging(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		a.Key = "severity"
		level, _ := a.Value.Any().(slog.Level)
		a.Value = slog.StringValue(severity(level))
	}
	return a
}

func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// Trace returns the attribute that ties a log line to the request's trace,
// from the X-Cloud-Trace-Context or traceparent header Cloud Run sets. It
// returns an empty attribute when there is no trace or no project.
func Trace(r *http.Request, project string) slog.Attr {
	if project == "" {
		return slog.Attr{}
	}
	id := ""
	if h := r.Header.Get("X-Cloud-Trace-Context"); h != "" {
		id, _, _ = strings.Cut(h, "/")
	} else if h := r.Header.Get("traceparent"); h != "" {
		// version-traceid-spanid-flags
		if parts := strings.Split(h, "-"); len(parts) == 4 {
			id = parts[1]
		}
	}
	if id == "" {
		return slog.Attr{}
	}
	return slog.String(TraceKey, fmt.Sprintf("projects/%s/traces/%s", project, id))
}
