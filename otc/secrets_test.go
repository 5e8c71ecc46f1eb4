package otc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestSecretsNeverShown runs failing calls of every kind with debug logs
// (text and JSON) and searches every log line and error text for the
// password, the tokens, the secret key and the security token.
func TestSecretsNeverShown(t *testing.T) {
	const (
		secretKey     = "aksk-secret-key-0123456789"
		securityToken = "aksk-security-token-0123456789"
	)
	secrets := []string{testPassword, testToken, secretKey, securityToken, sim.Password, sim.SecretKey,
		"MIIDkgYJKoZIhvcNAQcC"} // the prefix of every token the fakes and the simulator issue

	simFaulty := sim.New(sim.Options{FailRate: 1})
	simSrv := httptest.NewServer(simFaulty.Handler())
	t.Cleanup(simSrv.Close)
	simOK := httptest.NewServer(sim.New(sim.Options{}).Handler())
	t.Cleanup(simOK.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	// echo answers errors that repeat what it was sent.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error_code": "EndPoint.0002",
			"error_msg": fmt.Sprintf("bad token %s, body %s, password %s", r.Header.Get("X-Auth-Token"), b, testPassword)})
	}))
	t.Cleanup(echo.Close)

	simCreds := func(url string) otc.Credentials {
		return otc.Credentials{AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
			UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region, SecurityToken: securityToken}
	}
	type scenario struct {
		name   string
		opts   func(*testing.T) otc.Options
		client bool // the failure is in Provider.Client
	}
	scenarios := []scenario{
		{name: "wrong password (simulator IAM)", client: true, opts: func(*testing.T) otc.Options {
			c := simCreds(simOK.URL)
			c.Password = testPassword
			return fastOptions(c, "")
		}},
		{name: "IAM unreachable", client: true, opts: func(*testing.T) otc.Options {
			return fastOptions(passwordCreds(closed.URL), "")
		}},
		{name: "every request 401", opts: func(t *testing.T) otc.Options {
			f := newFakeCloud(t)
			f.reject = func(string, int) bool { return true }
			return fastOptions(passwordCreds(f.srv.URL), "")
		}},
		{name: "every request 500 (simulator)", opts: func(*testing.T) otc.Options {
			return fastOptions(simCreds(simSrv.URL), "")
		}},
		{name: "VPCEP unreachable, token mode", opts: func(*testing.T) otc.Options {
			return fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, closed.URL)
		}},
		{name: "server echoes what it was sent, token mode", opts: func(*testing.T) otc.Options {
			return fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID, Password: testPassword}, echo.URL)
		}},
		{name: "server echoes what it was sent, password mode", opts: func(t *testing.T) otc.Options {
			f := newFakeCloud(t)
			f.answer = func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(w, `{"error_code":"EndPoint.0001","error_msg":"user %s password %s"}`, testUser, testPassword)
			}
			return fastOptions(passwordCreds(f.srv.URL), "")
		}},
		{name: "AK/SK with a wrong secret (simulator)", opts: func(*testing.T) otc.Options {
			return fastOptions(otc.Credentials{AccessKey: sim.AccessKey, SecretKey: secretKey, SecurityToken: securityToken,
				ProjectID: sim.ProjectID, Region: sim.Region}, simOK.URL)
		}},
		{name: "AK/SK, every request 500 (simulator)", opts: func(*testing.T) otc.Options {
			return fastOptions(otc.Credentials{AccessKey: sim.AccessKey, SecretKey: sim.SecretKey, SecurityToken: securityToken,
				ProjectID: sim.ProjectID, Region: sim.Region}, simSrv.URL)
		}},
	}
	for _, sc := range scenarios {
		for _, format := range []string{"text", "json"} {
			t.Run(sc.name+"/"+format, func(t *testing.T) {
				var out bytes.Buffer
				log := slogText(&out)
				if format == "json" {
					log = slogJSON(&out)
				}
				opts := sc.opts(t)
				opts.Logger = log
				log.Debug("starting", "credentials", opts.Credentials, "options", opts)
				var errs []error
				p, err := otc.NewProvider(opts)
				if err != nil {
					t.Fatal(err)
				}
				c, err := p.Client(t.Context(), "", "", nil)
				if sc.client {
					if err == nil {
						t.Fatal("Client succeeded, want an error")
					}
					errs = append(errs, err)
				} else {
					if err != nil {
						t.Fatal(err)
					}
					errs = append(errs, runAll(t.Context(), c)...)
				}
				for _, err := range errs {
					if err == nil {
						t.Errorf("a call succeeded; every call should fail here")
						continue
					}
					log.Error("call failed", "err", err)
					fmt.Fprintf(&out, "%v\n%+v\n%s\n", err, err, err.Error())
				}
				text := out.String()
				if strings.Contains(sc.name, "echoes") && !strings.Contains(text, "[REDACTED]") {
					t.Errorf("the echoed secrets were not redacted:\n%s", text)
				}
				for _, s := range append(secrets, opts.Credentials.Secrets()...) {
					if strings.Contains(text, s) {
						t.Errorf("%q appears in the output:\n%s", s, text)
					}
				}
				if !strings.Contains(text, "level=ERROR") && !strings.Contains(text, `"level":"ERROR"`) {
					t.Errorf("no error logged:\n%s", text)
				}
			})
		}
	}
}

// runAll calls every operation once and returns the errors.
func runAll(ctx context.Context, c *otc.Client) []error {
	var errs []error
	_, err := c.ListEndpoints(ctx, otc.ListOptions{})
	errs = append(errs, err)
	_, err = c.GetEndpoint(ctx, "530d6f2f-d115-4df2-8c36-32d19f3c0bbc")
	errs = append(errs, err)
	_, _, err = c.CreateEndpoint(ctx, &vpcep.CreateEndpointRequest{EndpointServiceID: sim.ServiceInterfaceID,
		VPCID: "84758cf5-9c62-43ae-a778-3dbd8370c0a4", SubnetID: "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de"})
	errs = append(errs, err)
	_, err = c.DeleteEndpoint(ctx, "530d6f2f-d115-4df2-8c36-32d19f3c0bbc")
	errs = append(errs, err)
	_, err = c.TagAction(ctx, "530d6f2f-d115-4df2-8c36-32d19f3c0bbc", "create", []vpcep.Tag{{Key: "k", Value: "v"}})
	errs = append(errs, err)
	_, err = c.DescribeService(ctx, sim.ServiceInterfaceID, "")
	errs = append(errs, err)
	_, err = c.EndpointQuota(ctx)
	errs = append(errs, err)
	return errs
}
