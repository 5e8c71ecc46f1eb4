package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file verifies AK/SK request signatures as OTC's API gateway does
// (scheme SDK-HMAC-SHA256). It is written from the scheme's description, not
// from the client's signer, so that a mismatch between the two shows up in
// tests instead of being shared by both.

const (
	signAlgorithm  = "SDK-HMAC-SHA256"
	signDateFormat = "20060102T150405Z"
	signMaxSkew    = 15 * time.Minute
)

var errSignature = errors.New("signature mismatch")

// verifySignature checks the Authorization header of r against the access
// key pair of the simulated account.
func verifySignature(r *http.Request, body []byte, now time.Time) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, signAlgorithm+" ")
	if !ok {
		return fmt.Errorf("authorization scheme is not %s", signAlgorithm)
	}
	var access, signedHeaders, signature string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Access":
			access = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	if access == "" || signedHeaders == "" || signature == "" {
		return errors.New("authorization lacks Access, SignedHeaders or Signature")
	}
	if access != AccessKey {
		return errors.New("unknown access key")
	}
	date := r.Header.Get("X-Sdk-Date")
	t, err := time.Parse(signDateFormat, date)
	if err != nil {
		return fmt.Errorf("X-Sdk-Date %q is not %s", date, signDateFormat)
	}
	if d := now.Sub(t); d > signMaxSkew || d < -signMaxSkew {
		return fmt.Errorf("X-Sdk-Date %s is more than %s away from the server's clock", date, signMaxSkew)
	}
	headers := strings.Split(signedHeaders, ";")
	hasDate := false
	for _, h := range headers {
		if h == "" || h != strings.ToLower(h) {
			return fmt.Errorf("signed header %q is not a lower-case header name", h)
		}
		hasDate = hasDate || h == "x-sdk-date"
	}
	if !hasDate {
		return errors.New("x-sdk-date is not a signed header")
	}
	want := computeSignature(SecretKey, date, canonicalRequest(r, headers, body))
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, want) {
		return errSignature
	}
	return nil
}

// canonicalRequest builds the text that is hashed and signed:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n HEX(SHA256(BODY))
//
// where HEADERS holds one "name:value\n" line per signed header.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL))
	b.WriteByte('\n')
	for _, h := range signed {
		var values []string
		switch h {
		case "host":
			values = []string{r.Host}
		case "content-length":
			values = r.Header.Values(h)
			if len(values) == 0 && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			values = append(values, r.Header.Values(h)...)
			sort.Strings(values)
		}
		for _, v := range values {
			b.WriteString(h)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	if v := r.Header.Get("X-Sdk-Content-Sha256"); v == "UNSIGNED-PAYLOAD" {
		b.WriteString(v)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// canonicalURI escapes each segment of the path and ends it with "/".
func canonicalURI(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = signEscape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// canonicalQuery sorts the parameters by name, then value, and escapes both.
func canonicalQuery(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, signEscape(k)+"="+signEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// signEscape percent-encodes everything but the RFC 3986 unreserved
// characters, with upper-case hex digits.
func signEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func computeSignature(secret, date, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	sts := signAlgorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sts))
	return m.Sum(nil)
}
