package replay

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Line is the one-line report of a result: TYPE ID STATUS OUTCOME.
func (r Result) Line() string {
	id := r.Event.ID
	if id == "" {
		id = "-"
	}
	if r.Err != nil {
		return fmt.Sprintf("%s %s ERR %s", r.Event.Type, id, oneLine(r.Err.Error(), 300))
	}
	detail := r.Outcome
	if detail == "" {
		detail = r.Snippet
	}
	return fmt.Sprintf("%s %s %d %s", r.Event.Type, id, r.Status, detail)
}

// Summary counts a replay.
type Summary struct {
	Sent, OK, Failed, Skipped int
	Outcomes                  map[string]int
}

// Summarize counts results and skips.
func Summarize(results []Result, skips []Skip) Summary {
	s := Summary{Sent: len(results), Skipped: len(skips), Outcomes: map[string]int{}}
	for _, r := range results {
		if r.OK() {
			s.OK++
		} else {
			s.Failed++
		}
		if r.Outcome != "" {
			s.Outcomes[r.Outcome]++
		}
	}
	return s
}

// String is the summary line: the counts, then one outcome.NAME=N per
// outcome in name order. The prefix keeps an outcome called "failed" from
// reading as the failure count.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent=%d ok=%d failed=%d skipped=%d", s.Sent, s.OK, s.Failed, s.Skipped)
	for _, name := range slices.Sorted(maps.Keys(s.Outcomes)) {
		fmt.Fprintf(&b, " outcome.%s=%d", strings.ReplaceAll(name, " ", "_"), s.Outcomes[name])
	}
	return b.String()
}

// WriteSkip reports a skipped file.
func WriteSkip(w io.Writer, s Skip) {
	fmt.Fprintf(w, "skip %s: %s\n", s.File, oneLine(s.Reason, 300))
}
