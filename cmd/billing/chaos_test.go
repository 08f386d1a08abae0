package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestChaosInProcess(t *testing.T) {
	t.Setenv("FIRESTORE_EMULATOR_HOST", "") // the in-memory store: fast, and no emulator needed
	var out, errOut bytes.Buffer
	code := run([]string{"chaos", "--customers", "8", "--dup", "0.5", "--concurrency", "4", "--seed", "3"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	line := regexp.MustCompile(`(?m)^customers=8 deliveries=\d+ diverged=0 lost=0$`)
	if !line.MatchString(out.String()) {
		t.Errorf("summary line missing or wrong:\n%s", out.String())
	}
}

func TestChaosUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no customers", []string{"--customers", "0"}, "--customers"},
		{"dup above 1", []string{"--dup", "1.5"}, "--dup"},
		{"zero concurrency", []string{"--concurrency", "0"}, "--concurrency"},
		{"stray argument", []string{"extra"}, "unexpected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(append([]string{"chaos"}, c.args...), &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Errorf("stderr %q does not name %s", errOut.String(), c.want)
			}
		})
	}
}

func TestChaosAgainstURLNeedsSecretAndEmulator(t *testing.T) {
	t.Setenv("STRIPE_WEBHOOK_SECRET", "")
	t.Setenv("FIRESTORE_EMULATOR_HOST", "")
	var out, errOut bytes.Buffer
	if code := run([]string{"chaos", "--url", "http://127.0.0.1:1/x", "--secret", "whsec_test_x"}, &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "FIRESTORE_EMULATOR_HOST") {
		t.Errorf("stderr %q does not say what is missing", errOut.String())
	}
}
