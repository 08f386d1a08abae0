package billing

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// UsableID reports whether id can name a Firestore document: valid UTF-8,
// no slash, not . or .., not reserved (__…__), at most 1500 bytes. Ids
// come from Stripe payloads and metadata; one that cannot name a document
// would fail every delivery, so it is refused up front instead.
func UsableID(id string) bool {
	return id != "" && id != "." && id != ".." && len(id) <= 1500 && utf8.ValidString(id) &&
		!strings.Contains(id, "/") && !(len(id) >= 4 && strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"))
}

// UsableFieldName reports whether a map key from Stripe (metadata) can be
// stored as a Firestore field name: not empty, valid UTF-8, at most 1500
// bytes, not reserved (__…__).
func UsableFieldName(k string) bool {
	return k != "" && len(k) <= 1500 && utf8.ValidString(k) &&
		!(len(k) >= 4 && strings.HasPrefix(k, "__") && strings.HasSuffix(k, "__"))
}

// unusableIDs names the first id that cannot name a document, as a marker
// detail, or returns "". ids alternates a field name and its value; the
// first value is the object's own id and must be set, the others may be
// empty.
func unusableIDs(ids ...string) string {
	for i := 0; i+1 < len(ids); i += 2 {
		name, id := ids[i], ids[i+1]
		if id == "" && i > 0 {
			continue
		}
		if !UsableID(id) {
			return fmt.Sprintf("%s %q cannot name a document", name, id)
		}
	}
	return ""
}
