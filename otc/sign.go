package otc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// SignTimeFormat is the layout of the X-Sdk-Date header.
const SignTimeFormat = "20060102T150405Z"

// Sign signs req with the API gateway's SDK-HMAC-SHA256 scheme: it sets
// X-Sdk-Date (from now) and Authorization. body is the request body.
//
// The canonical request is, as the gateway's signers build it:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n HEX(SHA256(BODY))
//
// URI is the unescaped path, each segment escaped again (RFC 3986
// unreserved characters kept, upper-case hex), ending in "/"; QUERY the
// parameters sorted by name, then value, each escaped the same way and
// joined with "&"; HEADERS one "name:trimmed value\n" line per signed
// header. The string to sign is "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" +
// HEX(SHA256(canonical request)), and the signature its HMAC-SHA256 under
// the secret key, in hex. The signed headers are host, x-sdk-date and, when
// set, content-type, x-project-id and x-security-token.
func Sign(req *http.Request, body []byte, ak, sk string, now time.Time) {
	req.Header.Set("X-Sdk-Date", now.UTC().Format(SignTimeFormat))
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	names := []string{"host", "x-sdk-date"}
	for _, h := range []string{"content-type", "x-project-id", "x-security-token"} {
		if req.Header.Get(h) != "" {
			names = append(names, h)
		}
	}
	sort.Strings(names)
	var canon strings.Builder
	canon.WriteString(req.Method + "\n")
	canon.WriteString(canonicalURI(req.URL) + "\n")
	canon.WriteString(canonicalQuery(req.URL) + "\n")
	for _, n := range names {
		v := req.Header.Get(n)
		if n == "host" {
			v = req.Host
		}
		canon.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	canon.WriteString("\n" + strings.Join(names, ";") + "\n")
	h := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(h[:]))
	sum := sha256.Sum256([]byte(canon.String()))
	toSign := "SDK-HMAC-SHA256\n" + req.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(toSign))
	req.Header.Set("Authorization", fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s",
		ak, strings.Join(names, ";"), hex.EncodeToString(mac.Sum(nil))))
}

func canonicalURI(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = escapeRFC3986(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

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
			parts = append(parts, escapeRFC3986(k)+"="+escapeRFC3986(v))
		}
	}
	return strings.Join(parts, "&")
}

// escapeRFC3986 percent-encodes all but the unreserved characters
// (QueryEscape writes a space as "+", which the scheme spells %20).
func escapeRFC3986(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
