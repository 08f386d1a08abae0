package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Event is one delivery ready to be signed and sent.
type Event struct {
	File    string // where it was read from
	Type    string // e.g. "customer.subscription.updated"
	ID      string // event id; "" if a full event has none
	Body    []byte // exact bytes to POST
	Wrapped bool   // true if the envelope is ours, false if the file was a full event
}

// Skip records a file that is not sent and why.
type Skip struct {
	File   string
	Reason string
}

// LoadEvents reads every path in order: a file is taken as is, a folder
// contributes its *.json files (not recursively), sorted by name. Files that
// are not events or event data become Skips; only failures to read are
// errors.
func LoadEvents(paths []string, opts WrapOptions) ([]Event, []Skip, error) {
	var events []Event
	var skips []Skip
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, err
			}
			ev, err := Classify(filepath.Base(f), data, opts)
			if err != nil {
				skips = append(skips, Skip{File: f, Reason: err.Error()})
				continue
			}
			ev.File = f
			events = append(events, ev)
		}
	}
	return events, skips, nil
}

// expand lists the files a path stands for.
func expand(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		full := filepath.Join(path, e.Name())
		// Stat rather than e.Type(), so a symlink to a file counts and one
		// to a folder does not.
		if fi, err := os.Stat(full); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, full)
	}
	return files, nil
}

// Classify decides what a captured file is. name is the file's base name,
// which gives the event type when data is a bare data member. An error means
// the file is not sent; its text says why.
func Classify(name string, data []byte, opts WrapOptions) (Event, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Event{}, fmt.Errorf("not a JSON object: %v", err)
	}
	object, ok := top["object"]
	if !ok {
		return Event{}, errors.New(`no top-level "object" member`)
	}

	var kind string
	if json.Unmarshal(object, &kind) == nil {
		if kind != "event" {
			return Event{}, fmt.Errorf("a bare %q object, not an event or its data", kind)
		}
		return fullEvent(top, data)
	}

	if !isJSONObject(object) {
		return Event{}, errors.New(`top-level "object" is neither a string nor an object`)
	}
	for k := range top {
		if k != "object" && k != "previous_attributes" {
			return Event{}, fmt.Errorf("event data with unexpected top-level member %q", k)
		}
	}
	eventType, err := TypeFromFileName(name)
	if err != nil {
		return Event{}, err
	}
	return Wrap(eventType, data, opts)
}

func fullEvent(top map[string]json.RawMessage, data []byte) (Event, error) {
	var eventType, id string
	if err := json.Unmarshal(top["type"], &eventType); err != nil || eventType == "" {
		return Event{}, errors.New(`event without a "type"`)
	}
	// An event with no id is still sent; the receiver decides what that means.
	_ = json.Unmarshal(top["id"], &id)
	return Event{Type: eventType, ID: id, Body: data}, nil
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// TypeFromFileName maps a fixture's file name to its event type:
// "invoice.paid.json" is "invoice.paid", and "subscription.updated.json" is
// "customer.subscription.updated" (fixtures shorten that prefix).
func TypeFromFileName(name string) (string, error) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".json")
	if !ok {
		return "", fmt.Errorf("event data in %q: the event type comes from a NAME.json file name", name)
	}
	if !eventTypePattern.MatchString(base) {
		return "", fmt.Errorf("event data in %q: %q is not an event type", name, base)
	}
	if strings.HasPrefix(base, "subscription.") {
		base = "customer." + base
	}
	return base, nil
}
