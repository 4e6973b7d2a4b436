package serve

import (
	"encoding/json"
	"log/slog"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"

	"cdp/pipeline/config"
	"cdp/serve/pgserve"
)

// openAudit opens the audit log serve.audit names: JSON lines, rotated by
// size with lumberjack (a small, well-kept rotating writer: size, count and
// age limits, no goroutine of ours). A record that cannot be written is
// logged as an error, never dropped silently; the daemon keeps serving.
func openAudit(p *config.Project, log *slog.Logger) (func(pgserve.AuditRecord), func()) {
	a := p.Serve.Audit
	if a.File == "off" {
		return nil, func() {}
	}
	w := &lumberjack.Logger{Filename: p.Resolve(a.File), MaxSize: a.MaxSizeMB, MaxBackups: a.MaxBackups, MaxAge: a.MaxAgeDays}
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	write := func(r pgserve.AuditRecord) {
		mu.Lock()
		defer mu.Unlock()
		if err := enc.Encode(r); err != nil {
			log.Error("audit log: a record was not written", "file", w.Filename, "kind", r.Kind, "user", r.User, "error", err)
		}
	}
	return write, func() {
		mu.Lock()
		defer mu.Unlock()
		w.Close()
	}
}
