// Command billing is the operator's tool for the billing back end: it drives
// the deployed webhook with real Stripe payloads so a change can be checked
// end to end without waiting for Stripe.
//
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// command is one subcommand. run gets the arguments after the subcommand's
// name and returns the exit status: 0 success, 1 failure, 2 usage error.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is every subcommand, in the order usage lists them.
var commands = []command{
	{name: "replay", summary: "sign captured Stripe events and POST them to a webhook", run: runReplay},
	{name: "chaos", summary: "drive generated histories through the Stripe stand-in and check every document", run: runChaos},
	{name: "trigger", summary: "make the local Stripe stand-in emit an event by its real flow (offline stripe trigger)", run: runTrigger},
	{name: "flow", summary: "sign in a test user, check out a course, pay on the stand-in, print the entitlements", run: runFlow},
	{name: "course", summary: "create a course's Stripe product and price and its courses/{id} document; list courses", run: runCourse},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return 0
		}
		if c, ok := lookup(rest[0]); ok {
			// A subcommand's own -h prints its flags; send them to stdout,
			// since here they were asked for.
			return c.run([]string{"-h"}, stdout, stdout)
		}
		name = rest[0]
	default:
		if c, ok := lookup(name); ok {
			return c.run(rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "billing: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: billing COMMAND [flags] [args]\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "help", "show this, or a command's flags: billing help COMMAND")
	tw.Flush()
}
