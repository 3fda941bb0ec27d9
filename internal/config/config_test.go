package config_test

import (
	"bytes"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/config"
)

func TestLoad_PruneInterval(t *testing.T) {
	tests := []struct {
		name    string
		env     string // SCT_PRUNE_INTERVAL
		args    []string
		want    time.Duration
		wantErr string // empty: loads
	}{
		{name: "defaults to an hour", want: time.Hour},
		{name: "comes from the environment", env: "30m", want: 30 * time.Minute},
		{name: "a flag beats the environment", env: "30m", args: []string{"--prune-interval", "2h"}, want: 2 * time.Hour},
		{name: "zero in the environment turns it off", env: "0", want: 0},
		{name: "zero as a flag turns it off", args: []string{"--prune-interval=0"}, want: 0},
		{name: "a minute is allowed", env: "1m", want: time.Minute},
		{name: "under a minute is refused", env: "30s", wantErr: "prune-interval: must be 0 (never) or at least a minute"},
		{name: "a negative interval is refused", args: []string{"--prune-interval", "-1h"}, wantErr: "prune-interval: must be 0"},
		{name: "an unreadable interval names the variable", env: "hourly", wantErr: "SCT_PRUNE_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SCT_PRUNE_INTERVAL": tt.env}
			s, err := config.Load("sct", tt.args, func(k string) string { return env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.PruneInterval != tt.want {
				t.Errorf("prune interval = %v, want %v", s.PruneInterval, tt.want)
			}
		})
	}
}

func TestLogValue_ShowsPruneInterval(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "settings", config.Defaults())
	if !strings.Contains(buf.String(), "settings.prune_interval=1h0m0s") {
		t.Errorf("start-up log %q does not show the prune interval", buf.String())
	}
}

func TestLoad_PublicURL(t *testing.T) {
	tests := []struct {
		name    string
		env     string // SCT_PUBLIC_URL
		args    []string
		want    string // PublicBase; empty: none
		wantErr string // empty: loads
	}{
		{name: "none by default"},
		{name: "comes from the environment", env: "https://sct.example.org", want: "https://sct.example.org"},
		{name: "a flag beats the environment", env: "https://old.example.org", args: []string{"--public-url", "https://sct.example.org"}, want: "https://sct.example.org"},
		{name: "plain http and a port are allowed", env: "http://10.0.0.5:8080", want: "http://10.0.0.5:8080"},
		{name: "an IPv6 host is allowed", env: "https://[2001:db8::1]:8443", want: "https://[2001:db8::1]:8443"},
		{name: "a trailing slash is dropped", env: "https://sct.example.org/", want: "https://sct.example.org"},
		{name: "the host is lower-cased", env: "HTTPS://SCT.Example.ORG", want: "https://sct.example.org"},
		{name: "a relative URL is refused", env: "/sct", wantErr: `public-url "/sct": must start with https:// or http://`},
		{name: "a bare host is refused", env: "sct.example.org", wantErr: "must start with https:// or http://"},
		{name: "ftp is refused", env: "ftp://sct.example.org", wantErr: "must start with https:// or http://"},
		{name: "an opaque URL is refused", env: "https:sct.example.org", wantErr: "must start with https:// or http://"},
		{name: "a query is refused", env: "https://sct.example.org/?next=1", wantErr: "must not have a query"},
		{name: "an empty query is refused", env: "https://sct.example.org?", wantErr: "must not have a query"},
		{name: "a fragment is refused", env: "https://sct.example.org/#x", wantErr: "must not have a fragment"},
		{name: "an empty fragment is refused", env: "https://sct.example.org#", wantErr: "must not have a fragment"},
		{name: "an empty host is refused", env: "https://", wantErr: "must name a host"},
		{name: "a port alone is refused", env: "https://:8443", wantErr: "must name a host"},
		{name: "a path is refused", args: []string{"--public-url=https://sct.example.org/sct"}, wantErr: "must not have a path: the server answers at the root of its host"},
		{name: "a user name is refused", env: "https://admin:pw@sct.example.org", wantErr: "must not hold a user name or password"},
		{name: "port 0 is refused", env: "https://sct.example.org:0", wantErr: "the port must be a number from 1 to 65535"},
		{name: "a port too high is refused", env: "https://sct.example.org:70000", wantErr: "the port must be"},
		{name: "an empty port is refused", env: "https://sct.example.org:", wantErr: "the port must be"},
		{name: "a space is refused", env: "https://sct example.org", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SCT_PUBLIC_URL": tt.env}
			s, err := config.Load("sct", tt.args, func(k string) string { return env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, err := s.PublicBase()
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if got != tt.want {
				t.Errorf("public URL %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad_AllowedHosts(t *testing.T) {
	tests := []struct {
		name    string
		env     string // SCT_ALLOWED_HOSTS
		args    []string
		want    []string
		wantErr string // empty: loads
	}{
		{name: "none by default"},
		{name: "comes from the environment", env: "sct.example.org", want: []string{"sct.example.org"}},
		{name: "a flag beats the environment", env: "old.example.org", args: []string{"--allowed-hosts", "sct.example.org:8443"}, want: []string{"sct.example.org:8443"}},
		{name: "a list, spaced, lower-cased", env: " SCT.example.org , 10.0.0.5:8080,,[::1]:8080 ", want: []string{"sct.example.org", "10.0.0.5:8080", "[::1]:8080"}},
		{name: "a URL is refused", env: "https://sct.example.org", wantErr: `allowed-hosts: "https://sct.example.org" is not a host or host:port`},
		{name: "a path is refused", env: "sct.example.org/x", wantErr: "is not a host or host:port"},
		{name: "a user is refused", env: "u@sct.example.org", wantErr: "is not a host or host:port"},
		{name: "a port alone is refused", env: ":8080", wantErr: "is not a host or host:port"},
		{name: "a bad port is refused", env: "sct.example.org:http", wantErr: "is not a host or host:port"},
		{name: "port 0 is refused", env: "sct.example.org:0", wantErr: "is not a host or host:port"},
		{name: "an empty port is refused", env: "sct.example.org:", wantErr: "is not a host or host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SCT_ALLOWED_HOSTS": tt.env}
			s, err := config.Load("sct", tt.args, func(k string) string { return env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.HostAllowList()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("allowed hosts %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLogValue_ShowsPublicURLAndAllowedHosts(t *testing.T) {
	s := config.Defaults()
	s.PublicURL, s.AllowedHosts = "https://sct.example.org", "sct.internal"
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "settings", s)
	for _, want := range []string{"settings.public_url=https://sct.example.org", "settings.allowed_hosts=sct.internal"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("start-up log %q does not show %s", buf.String(), want)
		}
	}
}
