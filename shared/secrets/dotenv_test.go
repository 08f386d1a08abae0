package secrets_test

import (
	"strings"
	"testing"

	"github.com/courseplatform/billing/shared/secrets"
)

func TestValuesDotenvParsing(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    string // value of K
		wantErr string // substring; set for files that must be rejected
	}{
		{name: "plain value", file: "K=abc\n", want: "abc"},
		{name: "comments and blank lines are skipped", file: "# header\n\n  # indented comment\nK=abc\n\n", want: "abc"},
		{name: "export prefix is dropped", file: "export K=abc\n", want: "abc"},
		{name: "spaces around = are trimmed", file: "K = abc \n", want: "abc"},
		{name: "double quotes are removed", file: `K="abc def"` + "\n", want: "abc def"},
		{name: "single quotes are removed", file: "K='abc def'\n", want: "abc def"},
		{name: "quoted value keeps # and inner spaces", file: `K=" a #b "` + "\n", want: " a #b "},
		{name: "quoted value may be followed by a comment", file: `K="abc" # note` + "\n", want: "abc"},
		{name: "comment after whitespace is dropped", file: "K=abc # note\n", want: "abc"},
		{name: "# without whitespace before it is kept", file: "K=abc#123\n", want: "abc#123"},
		{name: "= inside the value is kept", file: "K=a=b==\n", want: "a=b=="},
		{name: "CRLF line endings", file: "A=1\r\nK=abc\r\n", want: "abc"},
		{name: "byte order mark on the first line", file: "\uFEFFK=abc\n", want: "abc"},
		{name: "later line wins", file: "K=old\nK=new\n", want: "new"},
		{name: "other keys are ignored", file: "A=1\nK=abc\nB=2\n", want: "abc"},
		{name: "no trailing newline", file: "K=abc", want: "abc"},
		{name: "empty value counts as unset", file: "K=\n", wantErr: "required key K is not set"},
		{name: "empty quoted value counts as unset", file: `K=""` + "\n", wantErr: "required key K is not set"},
		{name: "line without = is rejected with its number", file: "A=1\nnot a pair\n", wantErr: "line 2: want NAME=value"},
		{name: "invalid name is rejected", file: "1K=abc\n", wantErr: "line 1: want NAME=value"},
		{name: "unterminated quote is rejected", file: `K="abc` + "\n", wantErr: "line 1 (K): unterminated quote"},
		{name: "text after closing quote is rejected", file: `K="abc"def` + "\n", wantErr: "line 1 (K): unexpected text after closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := secrets.NewResolver([]secrets.Key{{Name: "K"}},
				envMap(nil), secrets.WithDotenvPath(writeDotenv(t, tt.file)))
			vals, err := r.Values(testCtx(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Values = %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Values: %v", err)
			}
			if got := vals.Get("K"); got != tt.want {
				t.Errorf("Get(K) = %q; want %q", got, tt.want)
			}
		})
	}
}
