package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

func init() { Register("email", newEmail) }

// email sends a group of alerts as one plain-text message over SMTP,
// upgraded with STARTTLS (required unless require_tls is false).
type email struct {
	cfg        config.NotifierConfig
	host       string
	requireTLS bool
}

func newEmail(cfg config.NotifierConfig) (Notifier, error) {
	host, _, err := net.SplitHostPort(cfg.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp_addr: %w", err)
	}
	if _, err := tlsConfig(cfg, host); err != nil {
		return nil, err
	}
	return &email{cfg: cfg, host: host, requireTLS: cfg.RequireTLS == nil || *cfg.RequireTLS}, nil
}

// EmailSubject is the subject of a group's message.
func EmailSubject(m *Message) string {
	firing := 0
	for _, a := range m.Alerts {
		if a.Firing() {
			firing++
		}
	}
	if firing > 0 {
		return fmt.Sprintf("[FIRING:%d] %s", firing, m.GroupLabels["alertname"])
	}
	return fmt.Sprintf("[RESOLVED] %s", m.GroupLabels["alertname"])
}

func (e *email) message(m *Message) []byte {
	var body bytes.Buffer
	qp := quotedprintable.NewWriter(&body)
	for _, a := range m.Alerts {
		fmt.Fprintf(qp, "%s: %s\r\n  since %s\r\n", strings.ToUpper(a.Status), summary(a), a.StartsAt.UTC().Format(time.RFC3339))
		if a.Status == StatusResolved {
			fmt.Fprintf(qp, "  resolved %s\r\n", a.EndsAt.UTC().Format(time.RFC3339))
		}
		for _, k := range sortedKeys(a.Labels) {
			fmt.Fprintf(qp, "  %s=%s\r\n", k, a.Labels[k])
		}
		for _, k := range sortedKeys(a.Annotations) {
			fmt.Fprintf(qp, "  %s: %s\r\n", k, a.Annotations[k])
		}
		qp.Write([]byte("\r\n"))
	}
	qp.Close()
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n", e.cfg.From, strings.Join(e.cfg.To, ", "), EmailSubject(m), time.Now().Format(time.RFC1123Z))
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.Write(body.Bytes())
	return b.Bytes()
}

func (e *email) Notify(ctx context.Context, m *Message) error {
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", e.cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", e.cfg.SMTPAddr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", e.cfg.SMTPAddr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc, _ := tlsConfig(e.cfg, e.host)
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %w", e.cfg.SMTPAddr, err)
		}
	} else if e.requireTLS {
		return fmt.Errorf("smtp %s does not offer STARTTLS and require_tls is set", e.cfg.SMTPAddr)
	}
	if e.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.host)); err != nil {
			return fmt.Errorf("smtp %s: auth: %w", e.cfg.SMTPAddr, err)
		}
	}
	if err := c.Mail(e.cfg.From); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	for _, to := range e.cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(e.message(m)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	if err := c.Quit(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("smtp QUIT: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
