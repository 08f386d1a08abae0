// Command manifest writes terraform/functions.json, the list of deployed
// functions that the Terraform reads, from package deploy and go.mod.
// Run it as go generate ./shared/deploy.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/courseplatform/billing/shared/deploy"
)

func main() {
	out := flag.String("o", "terraform/functions.json", "file to write")
	gomod := flag.String("gomod", "go.mod", "go.mod to read the Go version from")
	flag.Parse()
	if err := run(*out, *gomod); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(out, gomod string) error {
	src, err := os.ReadFile(gomod)
	if err != nil {
		return err
	}
	v, err := deploy.GoVersion(src)
	if err != nil {
		return err
	}
	m, err := deploy.NewManifest(v)
	if err != nil {
		return err
	}
	b, err := m.JSON()
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
