package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// errNoText: the message has no text/plain part.
var errNoText = errors.New("no text/plain part")

// Decode parses a raw RFC 5322 message as a mail client would: it decodes
// the RFC 2047 encoded words of the Subject and of the From and To display
// names, and returns the first text/plain part (the body itself, or a part of
// a multipart body) decoded from quoted-printable or base64, as UTF-8 with
// "\n" line ends. Only UTF-8 and US-ASCII bodies are accepted.
//
// The server calls Decode on every message it accepts; tests may call it on
// a message they wrote themselves.
func Decode(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("mailtest: reading the message: %w", err)
	}
	r := Received{Header: msg.Header, Raw: raw}
	var dec mime.WordDecoder
	if r.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return r, fmt.Errorf("mailtest: decoding Subject: %w", err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		return r, fmt.Errorf("mailtest: From is not one address (%v)", err)
	}
	r.From = from[0].Address
	to, err := msg.Header.AddressList("To")
	if err != nil {
		return r, fmt.Errorf("mailtest: decoding To: %w", err)
	}
	for _, a := range to {
		r.To = append(r.To, a.Address)
	}
	text, err := decodeText(textproto.MIMEHeader(msg.Header), msg.Body)
	if err != nil {
		return r, fmt.Errorf("mailtest: decoding the body: %w", err)
	}
	r.Text = text
	return r, nil
}

// decodeText returns the first text/plain part of an entity.
func decodeText(h textproto.MIMEHeader, body io.Reader) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii" // RFC 2045 §5.2
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("Content-Type %q: %w", ct, err)
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return "", errNoText
			}
			if err != nil {
				return "", err
			}
			text, err := decodeText(p.Header, p)
			if !errors.Is(err, errNoText) {
				return text, err
			}
		}
	case mediaType != "text/plain":
		return "", errNoText
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "us-ascii":
	default:
		return "", fmt.Errorf("charset %q: only utf-8 and us-ascii are decoded", cs)
	}
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips the line breaks
	case "", "7bit", "8bit", "binary":
	default:
		return "", fmt.Errorf("Content-Transfer-Encoding %q is not supported", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
