package doctor

import (
	"context"
	"time"

	"ndikiosk/config"
	"ndikiosk/notify"
)

// notify checks [notify]: the mail relay answers, offers STARTTLS with a
// certificate this machine trusts and takes the login (nothing is sent);
// the webhook is named but not called, since any POST would be an arrival
// to its receiver.
func (d *doctor) notify(cfg *config.Config) {
	o, err := notify.FromConfig(cfg.Notify)
	if err != nil {
		d.fail("notify", err)
		return
	}
	if o.SMTP == nil && o.Webhook == nil {
		d.ok("notify", "host notification is off (no [notify.smtp] host, no [notify.webhook] url)")
		return
	}
	if o.SMTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := o.SMTP.Check(ctx); err != nil {
			d.fail("notify.smtp", err)
		} else {
			tls := "STARTTLS"
			if o.SMTP.NoTLS {
				tls = "no TLS (loopback)"
			}
			d.ok("notify.smtp", "the relay "+cfg.Notify.SMTP.Host+" answers ("+tls+", login accepted); nothing was sent")
		}
	}
	if o.Webhook != nil {
		d.ok("notify.webhook", "set (not called: a test POST would look like a visitor's arrival to its receiver)")
	}
}
