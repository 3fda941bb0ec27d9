package server

import (
	"net"
	"net/url"
	"os"
	"slices"
	"testing"

	"github.com/lifelong-links/sct/internal/store/storetest"
)

// The server's own tests run on the embedded store, then in MongoDB mode.
// Its HTTP scenarios are the API's (api/*_scenario_test.go).
func TestMain(m *testing.M) { os.Exit(storetest.RunBoth(m)) }

func TestOwnHosts(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want []string
	}{
		{name: "IPv4 loopback", addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, want: []string{"127.0.0.1:8080", "localhost:8080"}},
		{name: "IPv6 loopback", addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, want: []string{"[::1]:8080", "localhost:8080"}},
		{name: "another address", addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 443}, want: []string{"10.0.0.5:443"}},
		{name: "the IPv4 wildcard names no host", addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}},
		{name: "the IPv6 wildcard names no host", addr: &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownHosts(tt.addr); !slices.Equal(got, tt.want) {
				t.Errorf("ownHosts(%v) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestSetupAddress(t *testing.T) {
	public, _ := url.Parse("https://sct.example.org")
	tests := []struct {
		name   string
		public *url.URL
		addr   net.Addr
		want   string
	}{
		{name: "the listen address", addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, want: "http://127.0.0.1:8080/setup#token=T"},
		{name: "the public URL, when set", public: public, addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, want: "https://sct.example.org/setup#token=T"},
		{name: "localhost for the IPv4 wildcard", addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, want: "http://localhost:8080/setup#token=T"},
		{name: "localhost for the IPv6 wildcard", addr: &net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, want: "http://localhost:9000/setup#token=T"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setupAddress(tt.public, tt.addr, "T"); got != tt.want {
				t.Errorf("setupAddress = %q, want %q", got, tt.want)
			}
		})
	}
}
