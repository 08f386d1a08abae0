package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// dotenvFile is a parsed .env file, kept for local development: production
// has no such file and sets every key in the environment.
type dotenvFile struct {
	path    string
	missing bool
	vars    map[string]string
}

// describe says where a key was looked for, for the missing-key error.
func (d *dotenvFile) describe() string {
	if d.missing {
		return fmt.Sprintf(".env file %s (not found)", d.path)
	}
	return ".env file " + d.path
}

// readDotenv reads path; a file that does not exist is an empty one.
func readDotenv(path string) (*dotenvFile, error) {
	d := &dotenvFile{path: path, vars: map[string]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		d.missing = true
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: read .env file: %w", err)
	}
	if d.vars, err = parseDotenv(data); err != nil {
		return nil, fmt.Errorf("secrets: .env file %s: %w", path, err)
	}
	return d, nil
}

// parseDotenv reads KEY=value lines. It accepts what a Django-era .env
// holds: blank lines, # comments, an optional "export " prefix, values in
// single or double quotes (taken literally, no escapes), and a # comment
// after a value when whitespace comes before the #. A later line for the
// same key wins, as it would when the file is sourced by a shell.
//
// Errors give line numbers, never line text, which may hold a secret.
func parseDotenv(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // editors on Windows add a BOM
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, raw, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validName(key) {
			return nil, fmt.Errorf("line %d: want NAME=value", n)
		}
		value, err := parseValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, key, err)
		}
		vars[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

func parseValue(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if q := raw[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(raw[1:], q)
		if end < 0 {
			return "", errors.New("unterminated quote")
		}
		value, rest := raw[1:1+end], strings.TrimSpace(raw[2+end:])
		if rest != "" && rest[0] != '#' {
			return "", errors.New("unexpected text after closing quote")
		}
		return value, nil
	}
	// A # counts as a comment only after whitespace, so values like
	// "abc#123" survive.
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
			raw = raw[:i]
			break
		}
	}
	return strings.TrimSpace(raw), nil
}

// validName accepts shell variable names: letters, digits and underscores,
// not starting with a digit.
func validName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
