package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Guard decides where deliveries may go. A receiver must be on the public
// internet: loopback, private, link-local, unspecified, multicast and other
// special-purpose addresses (IPv4 and IPv6, an IPv4 address written as
// IPv6 too) are refused, so that a webhook cannot be aimed at the server's
// own network. The allow list (hosts by name, or address ranges) lets an
// administrator name receivers inside it; only there is plain http taken.
// The address is checked when a webhook is registered and again on every
// connection, after the name is resolved, so a name that resolves
// elsewhere later (DNS rebinding) is refused then; a plain http connection
// is refused outside the allow list, even to a public address.
type Guard struct {
	hosts map[string]bool
	nets  []netip.Prefix
}

// ErrRefused means a target is not one deliveries may go to.
var ErrRefused = errors.New("refused")

// ParseAllow reads an allow list: hosts (names or addresses) and CIDR
// ranges, comma-separated.
func ParseAllow(list string) (Guard, error) {
	g := Guard{hosts: map[string]bool{}}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
			continue
		case strings.Contains(part, "/"):
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return Guard{}, fmt.Errorf("%q is not a CIDR range", part)
			}
			g.nets = append(g.nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(strings.Trim(part, "[]")); err == nil {
				g.nets = append(g.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if !validHostName(part) {
				return Guard{}, fmt.Errorf("%q is not a host name, an address or a CIDR range", part)
			}
			g.hosts[strings.ToLower(strings.TrimSuffix(part, "."))] = true
		}
	}
	return g, nil
}

func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// hostAllowed reports whether a host is allowed by name.
func (g Guard) hostAllowed(host string) bool {
	return g.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// addrAllowed reports whether deliveries may connect to an address: a
// public one, or one in an allowed range.
func (g Guard) addrAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.nets {
		if p.Contains(a) {
			return true
		}
	}
	return public(a)
}

// inAllowed reports whether an address is in an allowed range.
func (g Guard) inAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// special are address ranges besides those netip names that reach no
// public receiver, or reach one only through a gateway that could lead
// anywhere (NAT64, 6to4, Teredo).
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT): carries an IPv4 address inside
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo: carries an IPv4 address inside
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID (deprecated)
	netip.MustParsePrefix("2001:20::/28"),    // ORCHIDv2
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("5f00::/16"),       // segment routing (SRv6) SIDs
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// public reports whether an address is a public unicast one.
func public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Resolver finds the addresses of a host name.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL says what is wrong with a receiver's address (nil: nothing): it
// must be an absolute https URL (http only for an allowed target) with no
// user name, naming a host that resolves to addresses deliveries may go
// to, all of them.
func (g Guard) CheckURL(ctx context.Context, r Resolver, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Opaque != "" || u.Host == "":
		return errors.New("must be an absolute URL such as https://receiver.example.org/hook")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must start with https://")
	case u.User != nil:
		return errors.New("must not hold a user name or password")
	case u.Fragment != "":
		return errors.New("must not have a fragment")
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || p == "0" {
			return errors.New("has a port that is not a number from 1 to 65535")
		}
	}
	byName := g.hostAllowed(host)
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if !byName {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("names a host that does not resolve (%s)", host)
		}
	}
	allowed := byName
	if !byName {
		allowed = true
		for _, a := range addrs {
			if !g.addrAllowed(a) {
				return fmt.Errorf("%w: %s is a loopback, private, link-local or other non-public address; name it in SCT_WEBHOOK_ALLOW to allow it",
					ErrRefused, describe(host, a))
			}
			allowed = allowed && g.inAllowed(a)
		}
	}
	if u.Scheme == "http" && !allowed {
		return errors.New("must start with https:// (plain http only for a target named in SCT_WEBHOOK_ALLOW)")
	}
	return nil
}

func describe(host string, a netip.Addr) string {
	if host == a.String() || strings.Trim(host, "[]") == a.String() {
		return a.String()
	}
	return host + " (" + a.String() + ")"
}

// DialContext makes a plain (unencrypted) connection to addr (host:port)
// for a delivery over http: only to a host the allow list names, or to an
// address in one of its ranges. That is checked on the address connected
// to, after resolution, so a name allowed http at registration that
// resolves to a public address later is refused, not sent the signed
// body in the clear.
func (g Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return g.dial(ctx, network, addr, g.inAllowed, "is not in SCT_WEBHOOK_ALLOW, and only a target there is sent plain http")
}

// DialTLSContext makes a TLS connection to addr (host:port) for a delivery
// over https: to a public address, or one the allow list names, checked on
// the address connected to. The server's certificate is verified for the
// host with the system's roots (or config's, when given).
func (g Guard) DialTLSContext(ctx context.Context, network, addr string, config *tls.Config) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := g.dial(ctx, network, addr, g.addrAllowed, "is not a public address (see SCT_WEBHOOK_ALLOW)")
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if config != nil {
		cfg = config.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// dial connects to addr if the host is allowed by name or the address it
// resolved to passes ok.
func (g Guard) dial(ctx context.Context, network, addr string, ok func(netip.Addr) bool, why string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !g.hostAllowed(host) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot read the address %q", ErrRefused, address)
			}
			if !ok(ap.Addr()) {
				return fmt.Errorf("%w: %s %s", ErrRefused, describe(host, ap.Addr().Unmap()), why)
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}
