package stripeapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/courseplatform/billing/shared/stripeapi"
)

// FuzzDecode feeds any body to every one of allDecoders. A webhook payload is
// attacker-reachable once signed by a leaked or test secret, and any panic
// would crash the instance: the allDecoders must answer every input with an
// object or ErrUnprocessable.
//
//	go test -run=^$ -fuzz=FuzzDecode -fuzztime=20s ./shared/stripeapi/
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{capturedDir, variantDir} {
		for _, name := range jsonFiles(f, dir) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b) // the file as stored
			if p, err := payloadOf(b); err == nil {
				f.Add(p) // what a decoder is given
			}
		}
	}
	for _, s := range []string{"", "null", "{}", "[]", `"sub_1"`, `{"id":"sub_1","object":"subscription","items":{"data":[null]}}`} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range allDecoders {
			id, zero, err := d.decode(raw)
			switch {
			case err != nil && !errors.Is(err, stripeapi.ErrUnprocessable):
				t.Errorf("%s: error %v is not ErrUnprocessable", d.name, err)
			case err != nil && !zero:
				t.Errorf("%s: refused the input but returned a partly filled object", d.name)
			case err == nil && id == "":
				t.Errorf("%s: accepted an object without id", d.name)
			}
		}
	})
}
