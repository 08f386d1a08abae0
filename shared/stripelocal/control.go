package stripelocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// Control endpoints: the lifecycle actions over HTTP (JSON in, the changed
// object out, errors in Stripe's shape), for the stripe-local command and
// for anything that cannot call the Go methods. Also the pages a browser
// reaches through a session's url: a Checkout page with a button per
// outcome and a billing portal. No API key is needed: they stand for the
// buyer, the bank and time.
//
//	POST /_local/checkout/sessions/{id}/complete   {"outcome":"paid"}
//	POST /_local/checkout/sessions/{id}/expire
//	GET  /_local/clock
//	POST /_local/clock/advance                     {"duration":"720h"} or {"seconds":2592000}
//	POST /_local/customers/{id}/payment_fails      {"fails":true}
//	POST /_local/customers/{id}/delete
//	POST /_local/invoices/{id}/recover
//	POST /_local/invoices/{id}/void
//	POST /_local/subscriptions/{id}/{action}       cancel_at_period_end, uncancel, cancel, pause, resume
//	GET  /_local/events
//	GET  /_local/pay/{id}, /_local/portal/{id}     HTML

type controlInput struct {
	Outcome  Outcome `json:"outcome"`
	Duration string  `json:"duration"`
	Seconds  int64   `json:"seconds"`
	Fails    *bool   `json:"fails"`
}

type controlFunc func(r *http.Request, in controlInput) (any, error)

func (s *Stripe) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	j := func(pattern string, f controlFunc) { mux.Handle(pattern, controlHandler(f)) }

	j("POST /_local/checkout/sessions/{id}/complete", func(r *http.Request, in controlInput) (any, error) {
		return s.locked(func() (any, error) {
			cs, err := s.getSession(r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			if err := s.completeCheckout(cs, in.Outcome); err != nil {
				return nil, err
			}
			return s.renderSession(cs), nil
		})
	})
	j("POST /_local/checkout/sessions/{id}/expire", func(r *http.Request, _ controlInput) (any, error) {
		return s.locked(func() (any, error) {
			cs, err := s.getSession(r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			if err := s.expireCheckout(cs); err != nil {
				return nil, err
			}
			return s.renderSession(cs), nil
		})
	})
	j("GET /_local/clock", func(*http.Request, controlInput) (any, error) {
		return s.locked(func() (any, error) { return s.clockObj(), nil })
	})
	j("POST /_local/clock/advance", func(_ *http.Request, in controlInput) (any, error) {
		d := time.Duration(in.Seconds) * time.Second
		if in.Duration != "" {
			var err error
			if d, err = time.ParseDuration(in.Duration); err != nil {
				return nil, invalidRequest("duration", "Invalid duration: "+err.Error())
			}
		}
		if d <= 0 {
			return nil, invalidRequest("duration", "Give a positive duration (\"72h\") or seconds")
		}
		return s.locked(func() (any, error) {
			s.advance(d)
			return s.clockObj(), nil
		})
	})
	j("POST /_local/customers/{id}/payment_fails", func(r *http.Request, in controlInput) (any, error) {
		if in.Fails == nil {
			return nil, missingParam("fails")
		}
		return s.locked(func() (any, error) {
			c, err := s.getCustomer(r.PathValue("id"), "customer")
			if err != nil {
				return nil, err
			}
			c.paymentFails = *in.Fails
			return s.renderCustomer(c), nil
		})
	})
	j("POST /_local/customers/{id}/delete", func(r *http.Request, _ controlInput) (any, error) {
		return s.locked(func() (any, error) {
			c, err := s.getCustomer(r.PathValue("id"), "customer")
			if err != nil {
				return nil, err
			}
			s.deleteCustomer(c)
			return deletedStub(c.id, "customer"), nil
		})
	})
	j("POST /_local/invoices/{id}/{action}", func(r *http.Request, _ controlInput) (any, error) {
		return s.locked(func() (any, error) {
			in, err := s.getInvoice(r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			switch r.PathValue("action") {
			case "recover":
				err = s.recover(in)
			case "void":
				if in.status != "open" && in.status != "uncollectible" {
					return nil, invalidRequest("invoice", "You can only void an open or uncollectible invoice")
				}
				s.voidInvoice(in)
			default:
				return nil, notFound("action", r.PathValue("action"), "action")
			}
			if err != nil {
				return nil, err
			}
			return s.renderInvoice(in), nil
		})
	})
	j("POST /_local/subscriptions/{id}/{action}", func(r *http.Request, _ controlInput) (any, error) {
		return s.locked(func() (any, error) {
			sub, err := s.getSub(r.PathValue("id"))
			if err != nil {
				return nil, err
			}
			if err := s.subscriptionAction(sub, r.PathValue("action")); err != nil {
				return nil, err
			}
			return s.renderSubscription(sub), nil
		})
	})
	j("GET /_local/events", func(*http.Request, controlInput) (any, error) {
		return s.locked(func() (any, error) {
			data := make([]any, 0, len(s.events))
			for _, e := range s.events {
				data = append(data, json.RawMessage(e.JSON(APIVersion)))
			}
			return list("/_local/events", data), nil
		})
	})
	mux.HandleFunc("GET /_local/pay/{id}", s.payPage)
	mux.HandleFunc("POST /_local/pay/{id}", s.payPage)
	mux.HandleFunc("GET /_local/portal/{id}", s.portalPage)
	mux.HandleFunc("POST /_local/portal/{id}", s.portalPage)
	mux.Handle("/", controlHandler(func(r *http.Request, _ controlInput) (any, error) {
		return nil, &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: http.StatusNotFound,
			Msg: fmt.Sprintf("Unrecognized control URL (%s: %s)", r.Method, r.URL.Path)}
	}))
	return mux
}

func (s *Stripe) subscriptionAction(sub *subscription, action string) error {
	switch action {
	case "cancel_at_period_end":
		return s.setCancelAtPeriodEnd(sub, true)
	case "uncancel":
		return s.setCancelAtPeriodEnd(sub, false)
	case "cancel":
		return s.cancelNow(sub)
	case "pause":
		return s.pause(sub)
	case "resume":
		return s.resume(sub)
	}
	return notFound("action", action, "action")
}

func (s *Stripe) locked(f func() (any, error)) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

func (s *Stripe) clockObj() obj {
	return obj{"object": "stripelocal.clock", "now": s.unix(), "time": s.now.Format(time.RFC3339)}
}

func controlHandler(f controlFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in controlInput
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			err = json.Unmarshal(b, &in)
		}
		var res any
		if err != nil {
			err = invalidRequest("", "The control body is not JSON: "+err.Error())
		} else {
			res, err = f(r, in)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			e := asStripeError(err)
			w.WriteHeader(statusOf(e))
			_, _ = w.Write(errorBody(e, ""))
			return
		}
		_, _ = w.Write(marshal(res))
	})
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}} · stripelocal</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
button{font-size:1rem;margin:.25rem .5rem .25rem 0;padding:.5rem 1rem}.err{color:#b00}
table{border-collapse:collapse}td{padding:.25rem .75rem .25rem 0}</style></head>
<body><h1>{{.Title}}</h1><p><small>stripelocal: a local stand-in for Stripe. Nothing here is real.</small></p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{range .Lines}}<p>{{.}}</p>{{end}}
{{range .Forms}}<form method="post">{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<p>{{.Label}}</p>{{range .Buttons}}<button name="{{.Name}}" value="{{.Value}}">{{.Text}}</button>{{end}}</form>{{end}}
{{if .Back}}<p><a href="{{.Back}}">Back to the site</a></p>{{end}}
</body></html>`))

type page struct {
	Title, Error, Back string
	Lines              []string
	Forms              []pageForm
}

type pageForm struct {
	Label   string
	Hidden  map[string]string
	Buttons []pageButton
}

type pageButton struct{ Name, Value, Text string }

func writePage(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// payPage is where a Checkout session's url (or an invoice's hosted url)
// leads: the buyer picks an outcome, and a completed session redirects to
// its success_url as Stripe's does.
func (s *Stripe) payPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var failure error
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		switch {
		case s.sessions.get(id) != nil:
			cs := s.sessions.get(id)
			if failure = s.completeCheckout(cs, Outcome(r.FormValue("outcome"))); failure == nil && cs.successURL != "" {
				http.Redirect(w, r, strings.ReplaceAll(cs.successURL, "{CHECKOUT_SESSION_ID}", cs.id), http.StatusSeeOther)
				return
			}
		case s.invoices.get(id) != nil:
			failure = s.recover(s.invoices.get(id))
		}
	}
	p := page{Title: "Pay"}
	if failure != nil {
		p.Error = asStripeError(failure).Msg
	}
	if cs := s.sessions.get(id); cs != nil {
		p.Title = "Checkout"
		p.Back = cs.cancelURL
		for _, it := range cs.items {
			pr := s.prices.get(it.price)
			name := pr.product
			if prod := s.products.get(pr.product); prod != nil {
				name = prod.name
			}
			every := ""
			if pr.recurring() {
				every = fmt.Sprintf(" every %d %s", pr.intervalCount, pr.interval)
			}
			p.Lines = append(p.Lines, fmt.Sprintf("%d × %s: %s%s", it.quantity, name, money(pr.unitAmount, pr.currency), every))
		}
		if cs.trialDays > 0 {
			p.Lines = append(p.Lines, fmt.Sprintf("Free trial: %d days", cs.trialDays))
		}
		p.Lines = append(p.Lines, fmt.Sprintf("Session %s (%s mode): %s, payment %s", cs.id, cs.mode, cs.status, cs.paymentStatus))
		switch {
		case cs.status == "open":
			p.Forms = append(p.Forms, pageForm{Label: "Pay with:", Buttons: []pageButton{
				{"outcome", string(OutcomePaid), "Card that works"},
				{"outcome", string(OutcomeDeclined), "Card that is declined"},
				{"outcome", string(OutcomeAsyncPending), "Bank debit (settles later)"},
			}})
		case cs.asyncPending:
			p.Forms = append(p.Forms, pageForm{Label: "The bank debit:", Buttons: []pageButton{
				{"outcome", string(OutcomeAsyncSucceeded), "Settles"},
				{"outcome", string(OutcomeAsyncFailed), "Fails"},
			}})
		}
		writePage(w, http.StatusOK, p)
		return
	}
	if in := s.invoices.get(id); in != nil {
		p.Title = "Invoice " + in.number
		p.Lines = []string{fmt.Sprintf("%s, %s", money(in.total(), in.currency), in.status)}
		if in.status == "open" || in.status == "uncollectible" {
			p.Forms = []pageForm{{Label: "Pay with a new card:", Buttons: []pageButton{{"pay", "1", "Pay"}}}}
		}
		writePage(w, http.StatusOK, p)
		return
	}
	writePage(w, http.StatusNotFound, page{Title: "Not found", Error: "No such Checkout session or invoice: " + id})
}

// portalPage is the billing portal a portal session's url leads to: the
// customer's subscriptions with the actions Stripe's portal offers.
func (s *Stripe) portalPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.portals.get(r.PathValue("id"))
	if ps == nil {
		writePage(w, http.StatusNotFound, page{Title: "Not found", Error: "No such portal session: " + r.PathValue("id")})
		return
	}
	p := page{Title: "Billing", Back: ps.returnURL}
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		sub := s.subs.get(r.FormValue("sub"))
		if sub == nil || sub.customer != ps.customer {
			p.Error = "No such subscription"
		} else if err := s.subscriptionAction(sub, r.FormValue("action")); err != nil {
			p.Error = asStripeError(err).Msg
		} else {
			http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
			return
		}
	}
	for _, sub := range s.subs.all() {
		if sub.customer != ps.customer {
			continue
		}
		line := fmt.Sprintf("%s: %s, period ends %s", sub.id, sub.status, sub.periodEnd.Format("2006-01-02"))
		if sub.cancelAtPeriodEnd {
			line += ", cancels then"
		}
		f := pageForm{Label: line, Hidden: map[string]string{"sub": sub.id}}
		switch {
		case ended(sub):
		case sub.status == "paused":
			f.Buttons = append(f.Buttons, pageButton{"action", "resume", "Resume"})
		case sub.cancelAtPeriodEnd:
			f.Buttons = append(f.Buttons, pageButton{"action", "uncancel", "Don't cancel"})
		default:
			f.Buttons = append(f.Buttons, pageButton{"action", "cancel_at_period_end", "Cancel at period end"},
				pageButton{"action", "cancel", "Cancel now"}, pageButton{"action", "pause", "Pause"})
		}
		p.Forms = append(p.Forms, f)
	}
	if len(p.Forms) == 0 {
		p.Lines = []string{"No subscriptions."}
	}
	writePage(w, http.StatusOK, p)
}
