package api

import (
	"fmt"
	"net/http"

	"github.com/sluice-log/sluice/internal/record"
)

// writeError answers {"error": "..."} with the status code.
func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b := append([]byte(`{"error":`), record.AppendJSONString(nil, fmt.Sprintf(format, args...))...)
	_, _ = w.Write(append(b, "}\n"...))
}
