package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// links makes the base of every address the server hands out: young-person
// links, their QR codes, calendar addresses. Such an address is followed
// later, by someone else, trusting that this server made it: it must never
// come from what the request says about itself, which anyone can forge.
type links struct {
	public string          // "https://host[:port]"; empty: none set
	hosts  map[string]bool // lower-cased Host values believed without one
}

func newLinks(public *url.URL, allowed []string) (links, error) {
	l := links{hosts: map[string]bool{}}
	if public != nil {
		if (public.Scheme != "http" && public.Scheme != "https") || public.Hostname() == "" || public.Opaque != "" ||
			public.User != nil || (public.Path != "" && public.Path != "/") || public.RawQuery != "" || public.Fragment != "" {
			return l, fmt.Errorf("public URL %q: want http(s)://host[:port] and nothing more", public.Redacted())
		}
		l.public = public.Scheme + "://" + strings.ToLower(public.Host)
	}
	for _, h := range allowed {
		if h = strings.TrimSpace(h); h != "" {
			l.hosts[strings.ToLower(h)] = true
		}
	}
	return l, nil
}

// errUnknownHost refuses a request that would make a link when the server
// has no public URL and the request's Host is not one it is known by.
var errUnknownHost = invalid(http.StatusMisdirectedRequest,
	"this server does not know the address people reach it at, so it makes no links for this request's Host; "+
		"an administrator sets SCT_PUBLIC_URL (e.g. https://sct.example.org) or lists the host in SCT_ALLOWED_HOSTS")

// publicBase is the scheme and host every link the server makes starts
// with, without a trailing "/". With a public URL it is that, whatever the
// request says. Without one it is the request's Host only if that is the
// listen address or allow-listed, with https only if the request itself
// came over TLS: X-Forwarded-Proto, X-Forwarded-Host and the like are never
// believed. Otherwise it is errUnknownHost; call it before writing anything.
func (h *handlers) publicBase(c echo.Context) (string, error) {
	if h.links.public != "" {
		return h.links.public, nil
	}
	r := c.Request()
	host := strings.ToLower(r.Host)
	if host == "" || !h.links.hosts[host] {
		h.log.Warn("link refused: the Host is not this server's address; set SCT_PUBLIC_URL",
			"request_id", requestID(c), "host", r.Host)
		return "", errUnknownHost
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host, nil
}
