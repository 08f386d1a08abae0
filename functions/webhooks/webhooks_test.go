package webhooks

import (
	"testing"
	"time"

	"github.com/courseplatform/billing/shared/stripeapi"
)

// Every group has processors, and exactly for the types it owns.
func TestEveryGroupRoutesExactlyItsTypes(t *testing.T) {
	for _, f := range All() {
		if f.Routes == nil {
			t.Fatalf("%s: no routes", f.Group.Name)
		}
		routes := f.Routes(stripeapi.Payload{}, time.Now)
		for _, typ := range f.Group.Types {
			if routes[typ] == nil {
				t.Errorf("%s: owns %s but has no processor for it", f.Group.Name, typ)
			}
		}
		for typ := range routes {
			if !f.Group.Owns(typ) {
				t.Errorf("%s: processes %s, which it does not own", f.Group.Name, typ)
			}
		}
	}
}
