package localapi

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/routes"
)

// What API Gateway puts in requestContext that a local server has no real value for.
const (
	localAccountID = "123456789012"
	localAPIID     = "localapi00"
	stage          = "$default"
)

// timeLayout is requestContext.time's format ("12/Mar/2020:19:03:58 +0000").
const timeLayout = "02/Jan/2006:15:04:05 -0700"

// hopByHop are the connection-level headers the API Gateway front end consumes; they never
// reach a function.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true,
}

// EventFromRequest builds the event an HTTP API (payload format 2.0) sends the route's function
// for r, whose body has already been read into body:
//
//   - rawPath and requestContext.http.path are the URL-decoded path, as HTTP APIs deliver
//     them (REST APIs and function URLs keep the encoding, HTTP APIs do not);
//   - rawQueryString is the query exactly as sent, and queryStringParameters its decoded values,
//     a repeated parameter's values joined with commas;
//   - header names are lower-cased and repeated headers joined with commas; Cookie headers are
//     moved to cookies, one entry per cookie; host, x-forwarded-* and x-amzn-trace-id are added;
//   - pathParameters are the route's {name} segments;
//   - the body is text, or base64 with isBase64Encoded when it is not valid UTF-8.
//
// Maps with no entries are left nil, so they are absent from the JSON as they are in
// API Gateway's events.
func EventFromRequest(r *http.Request, route samtemplate.HTTPRoute, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	headers, cookies := eventHeaders(r, len(body))
	routeKey := route.Method + " " + route.Path
	if route.Path == routes.DefaultPath {
		routeKey = routes.DefaultPath // API Gateway's route key for it, whatever the method
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    localAccountID,
			Stage:        stage,
			RequestID:    newRequestID(),
			APIID:        localAPIID,
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         now.Format(timeLayout),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if params, _, ok := matchPath(route.Path, path); ok && len(params) > 0 {
		ev.PathParameters = params
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func eventHeaders(r *http.Request, bodyLen int) (map[string]string, []string) {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		switch {
		case lower == "cookie":
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
		case hopByHop[lower]:
		default:
			headers[lower] = strings.Join(values, ",")
		}
	}
	// Go's server takes Host out of the header map; API Gateway passes it on.
	headers["host"] = r.Host
	if bodyLen > 0 {
		headers["content-length"] = strconv.Itoa(bodyLen)
	}
	ip := sourceIP(r)
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + ip
	} else {
		headers["x-forwarded-for"] = ip
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	} else if headers["x-forwarded-proto"] == "https" {
		headers["x-forwarded-port"] = "443"
	} else {
		headers["x-forwarded-port"] = "80"
	}
	if headers["x-amzn-trace-id"] == "" {
		headers["x-amzn-trace-id"] = newTraceID()
	}
	return headers, cookies
}

// queryParameters decodes the query; what cannot be decoded is left out, as url.ParseQuery does.
func queryParameters(raw string) map[string]string {
	values, _ := url.ParseQuery(raw)
	if len(values) == 0 {
		return nil
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = strings.Join(v, ",")
	}
	return out
}

func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// domainPrefix is the first label of the host name ("abc123" of abc123.execute-api...), or the
// whole host for an IP address.
func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return host
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// newRequestID makes an id shaped like API Gateway's ("JKJaXmPLvHcESHA=").
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newTraceID makes an X-Ray trace header value ("Root=1-<8 hex time>-<24 hex random>").
func newTraceID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	var sb strings.Builder
	sb.WriteString("Root=1-")
	sec := uint32(time.Now().Unix())
	for i := 7; i >= 0; i-- {
		sb.WriteByte(hex[(sec>>(4*uint(i)))&0xf])
	}
	sb.WriteByte('-')
	for _, c := range b {
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&0xf])
	}
	return sb.String()
}
