package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
)

// WrapOptions are the envelope fields that do not come from the data.
type WrapOptions struct {
	// Livemode is the envelope's livemode. The object's own livemode is
	// not copied: the envelope is ours and signed with our secret.
	Livemode bool
	// APIVersion is the envelope's api_version; "" gives null.
	APIVersion string
}

// IDPrefix starts every id that Wrap makes, so replayed events are easy to
// tell apart from Stripe's in logs and in the store.
const IDPrefix = "evt_replay_"

// createdFallbackBase and createdFallbackSpan place a derived created time
// somewhere in 2020 when the object has none of its own.
const (
	createdFallbackBase = 1577836800 // 2020-01-01T00:00:00Z
	createdFallbackSpan = 366 * 24 * 60 * 60
)

// envelope is the head of a Stripe event; data is appended by hand so the
// captured bytes go out verbatim (json.Marshal would compact and
// re-escape a json.RawMessage).
type envelope struct {
	ID              string  `json:"id"`
	Object          string  `json:"object"`
	APIVersion      *string `json:"api_version"`
	Created         int64   `json:"created"`
	Livemode        bool    `json:"livemode"`
	PendingWebhooks int     `json:"pending_webhooks"`
	Request         request `json:"request"`
	Type            string  `json:"type"`
}

type request struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// Wrap puts the data member of an event (`{"object": {...}}`, maybe with
// previous_attributes) in an event envelope of the given type. The result
// depends only on its inputs: the id is a digest of type and data, and
// created is the object's own created or, failing that, derived from the
// same digest, never the clock. So wrapping a file twice gives the same
// bytes, and sending them twice is a duplicate delivery.
func Wrap(eventType string, data []byte, opts WrapOptions) (Event, error) {
	var member struct {
		Object map[string]json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(data, &member); err != nil || member.Object == nil {
		return Event{}, errors.New(`event data needs an "object" member that is a JSON object`)
	}

	digest := sha256.Sum256([]byte(eventType + "\n" + string(data)))
	created, ok := unixSeconds(member.Object["created"])
	if !ok {
		created = createdFallbackBase + int64(binary.BigEndian.Uint32(digest[:4])%createdFallbackSpan)
	}
	env := envelope{
		ID:              IDPrefix + hex.EncodeToString(digest[:])[:24],
		Object:          "event",
		Created:         created,
		Livemode:        opts.Livemode,
		PendingWebhooks: 1,
		Type:            eventType,
	}
	if opts.APIVersion != "" {
		env.APIVersion = &opts.APIVersion
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return Event{}, err
	}
	head := bytes.TrimRight(buf.Bytes(), "\n")
	body := make([]byte, 0, len(head)+len(data)+10)
	body = append(body, head[:len(head)-1]...) // drop the closing brace
	body = append(body, `,"data":`...)
	body = append(body, data...)
	body = append(body, '}')
	return Event{Type: eventType, ID: env.ID, Body: body, Wrapped: true}, nil
}

// unixSeconds reads a JSON integer; a string, float or absence is not one.
func unixSeconds(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil
}
