package otc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// This file holds the TLS policy: certificates are verified against the
// system's CAs plus a CA file of the user's (--cacert, OS_CACERT,
// clouds.yaml cacert); verification is off only when asked for explicitly
// (--insecure, clouds.yaml verify: false), and then every run says so. A
// handshake that fails on a certificate is never retried: the next
// attempt meets the same certificate.

// TLS is how the cloud's certificates are checked, and the client
// certificate to show, as clouds.yaml (cacert, verify, cert, key) and the
// OpenStack variables (OS_CACERT, OS_CERT, OS_KEY) give them.
type TLS struct {
	CACert   string // PEM file of CA certificates, trusted besides the system's
	Cert     string // client certificate, PEM file
	Key      string // the client certificate's private key, PEM file
	Insecure bool   // do not verify the server's certificate
}

// configureTLS applies the credentials' TLS settings to the HTTP client's
// transport (a copy of it). Unreadable files are a *ConfigError.
func (o *Options) configureTLS() error {
	t := o.Credentials.TLS
	if t == (TLS{}) {
		return nil
	}
	ht, ok := baseTransport(o.HTTPClient).(*http.Transport)
	if !ok {
		return configErrorf("TLS settings need an *http.Transport, not %T", baseTransport(o.HTTPClient))
	}
	ht = ht.Clone()
	cfg := ht.TLSClientConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return &ConfigError{Msg: "cacert " + t.CACert, Err: errors.Unwrap(err)}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return configErrorf("cacert %s: no PEM certificate in the file", t.CACert)
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		if t.Cert == "" || t.Key == "" {
			return configErrorf("client certificate: give both cert and key (clouds.yaml, or OS_CERT and OS_KEY)")
		}
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return configErrorf("client certificate %s (key %s): %s", t.Cert, t.Key, cleanFileError(err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	cfg.InsecureSkipVerify = t.Insecure
	ht.TLSClientConfig = cfg
	o.HTTPClient = &http.Client{Transport: ht}
	return nil
}

// cleanFileError drops the operation of an os error (the file is named by
// the caller).
func cleanFileError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// warnInsecure logs, on every run, what the user has given up: TLS
// verification, or TLS altogether for the password.
func (o *Options) warnInsecure() {
	if o.Credentials.TLS.Insecure {
		o.Logger.Warn("TLS certificate verification is off (--insecure or clouds.yaml verify: false): " +
			"anyone on the network path can read the credentials and tokens")
	}
	if u, err := url.Parse(o.Credentials.AuthURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) &&
		o.Credentials.Mode() == "password" {
		o.Logger.Warn("OS_AUTH_URL is plain http: the password crosses the network in clear text", "auth_url", serverURL(o.Credentials.AuthURL, true))
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TLSError is a TLS handshake that failed for a reason a retry cannot
// fix: a certificate that does not verify, a server that does not speak
// TLS or that refuses the handshake. It is Permanent: one attempt.
type TLSError struct {
	Op     string
	URL    string // scheme and host
	Reason string // one line, e.g. "x509: certificate signed by unknown authority"
	Hint   string
	Err    error
}

func (e *TLSError) Error() string {
	s := fmt.Sprintf("%s: TLS with %s failed: %s", e.Op, e.URL, e.Reason)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *TLSError) Unwrap() error { return e.Err }

// Class implements the classification: Permanent.
func (e *TLSError) Class() Class { return Permanent }

// tlsFailure returns a *TLSError when err is a certificate or handshake
// problem of a request to u, and nil for any other error.
func tlsFailure(op string, u *url.URL, err error) *TLSError {
	var (
		verr  *tls.CertificateVerificationError
		ua    x509.UnknownAuthorityError
		he    x509.HostnameError
		ci    x509.CertificateInvalidError
		rh    tls.RecordHeaderError
		oe    *net.OpError
		cause error
		hint  string
	)
	switch {
	case errors.As(err, &verr):
		cause = verr.Err
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		cause = err
	case errors.As(err, &rh):
		return &TLSError{Op: op, URL: serverURL(u.String(), false), Reason: "the server does not speak TLS",
			Hint: "check the URL's scheme and port", Err: err}
	case errors.As(err, &oe) && oe.Op == "remote error":
		// crypto/tls reports an alert from the server so: "tls: bad
		// certificate", "tls: handshake failure".
		return &TLSError{Op: op, URL: serverURL(u.String(), false), Reason: "the server refused the handshake (" + oe.Err.Error() + ")",
			Hint: "it may want a client certificate (clouds.yaml cert and key, or OS_CERT and OS_KEY)", Err: err}
	default:
		return nil
	}
	switch {
	case errors.As(cause, &ua):
		hint = "trust its CA with --cacert FILE (or OS_CACERT, clouds.yaml cacert)"
	case errors.As(cause, &he):
		hint = "the certificate belongs to another host"
	case errors.As(cause, &ci) && ci.Reason == x509.Expired:
		hint = "check this machine's clock"
	}
	reason := strings.Join(strings.Fields(innermost(cause).Error()), " ")
	return &TLSError{Op: op, URL: serverURL(u.String(), false), Reason: reason, Hint: hint, Err: err}
}

// innermost is the x509 error inside err, or err.
func innermost(err error) error {
	for {
		switch err.(type) {
		case x509.UnknownAuthorityError, x509.HostnameError, x509.CertificateInvalidError:
			return err
		}
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
