package stripelocal

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// Event is one event the stand-in emitted: the truth of what happened, in
// order.
type Event struct {
	ID       string
	Type     string
	Created  int64
	Livemode bool
	// Object is data.object at APIVersion: the object as it was when the
	// event happened.
	Object json.RawMessage
	// PreviousAttributes is data.previous_attributes at APIVersion, set
	// for *.updated events.
	PreviousAttributes json.RawMessage
	// RequestID and IdempotencyKey name the API request that caused the
	// event; empty for events of the stand-in's own doing (the clock,
	// control actions).
	RequestID      string
	IdempotencyKey string

	cur, prev obj
}

type eventRequest struct{ id, idempotencyKey string }

// ObjectID returns the id of the event's object.
func (e Event) ObjectID() string { return str(e.cur["id"]) }

// JSON renders the event as Stripe sends it to an endpoint at apiVersion
// ("" means APIVersion).
func (e Event) JSON(apiVersion string) []byte {
	if apiVersion == "" {
		apiVersion = APIVersion
	}
	cur := atVersion(e.cur, apiVersion).(obj)
	data := obj{"object": cur}
	if e.prev != nil {
		data["previous_attributes"] = diff(atVersion(e.prev, apiVersion).(obj), cur)
	}
	return marshal(obj{
		"id": e.ID, "object": "event", "api_version": apiVersion, "created": e.Created, "data": data,
		"livemode": e.Livemode, "pending_webhooks": int64(1), "type": e.Type,
		"request": obj{"id": nullStr(e.RequestID), "idempotency_key": nullStr(e.IdempotencyKey)},
	})
}

// Stripe decodes the event as stripe-go v76 does.
func (e Event) Stripe() (stripe.Event, error) {
	var ev stripe.Event
	err := json.Unmarshal(e.JSON(APIVersion), &ev)
	return ev, err
}

// marshal encodes a render without HTML escaping (Stripe does not escape &
// in URLs). Renders hold only JSON-safe values, so it cannot fail.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("stripelocal: render is not JSON: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// emit records an event about cur and queues it for every endpoint that
// wants it. prev, for *.updated events, is the object before the change.
func (s *Stripe) emit(typ string, cur, prev obj) {
	e := Event{ID: s.newID("evt"), Type: typ, Created: s.unix(), Livemode: s.opts.Livemode, cur: cur, prev: prev}
	e.Object = marshal(cur)
	if prev != nil {
		e.PreviousAttributes = marshal(diff(prev, cur))
	}
	if s.req != nil {
		e.RequestID, e.IdempotencyKey = s.req.id, s.req.idempotencyKey
	}
	s.eventByID[e.ID] = len(s.events)
	s.events = append(s.events, e)
	queued := false
	for i, ep := range s.endpoints {
		if ep.wants(typ) {
			s.queue = append(s.queue, queuedDelivery{event: len(s.events) - 1, endpoint: i})
			queued = true
		}
	}
	if queued {
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// updated emits an *.updated event when the object changed.
func (s *Stripe) updated(typ string, before, after obj) {
	if len(diff(before, after)) == 0 {
		return
	}
	s.emit(typ, after, before)
}

// Events returns every event emitted so far, oldest first.
func (s *Stripe) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// EventTypes is a convenience for tests: the types of events, in order.
func EventTypes(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

func typeMatches(pattern, typ string) bool {
	if pattern == "*" || pattern == typ {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, ".*"); ok {
		return strings.HasPrefix(typ, p+".")
	}
	return false
}
