package spotclient

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// PageLimit is the page size asked for when walking results (Spot's largest page).
const PageLimit = 500

func resultsRequest(id, outcome, accept string) request {
	q := url.Values{"pagination[limit]": {strconv.Itoa(PageLimit)}}
	setIf(q, "filter[outcome][eq]", outcome)
	return request{method: http.MethodGet, path: jobPath(id) + "/results", query: q,
		header: http.Header{"Accept": {accept}}}
}

// EachResult calls fn with every result of a job (only those of outcome, if given), in the
// API's order: payload rows by row, then removals.
func (c *Client) EachResult(ctx context.Context, id, outcome string, fn func(Result) error) error {
	return c.walk(ctx, resultsRequest(id, outcome, "application/json"), func(a *answer) (int, int, error) {
		var p Page[Result]
		if err := decode(a, &p); err != nil {
			return 0, 0, err
		}
		for _, r := range p.Items {
			if err := fn(r); err != nil {
				return 0, 0, err
			}
		}
		return len(p.Items), p.Total, nil
	})
}

// ResultsCSV writes a job's results (only those of outcome, if given) as one CSV to w: the
// header the API sends (externalUid,email,name,outcome,error) once, then every page's rows.
// It returns the number of rows written.
func (c *Client) ResultsCSV(ctx context.Context, id, outcome string, w io.Writer) (int, error) {
	out := csv.NewWriter(w)
	var header []string
	rows := 0
	err := c.walk(ctx, resultsRequest(id, outcome, "text/csv"), func(a *answer) (int, int, error) {
		records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(a.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			return 0, 0, fmt.Errorf("the API's CSV results do not parse: %w", err)
		}
		if len(records) == 0 {
			return 0, -1, nil
		}
		switch {
		case header == nil:
			header = records[0]
			if err := out.Write(header); err != nil {
				return 0, 0, err
			}
		case !slices.Equal(header, records[0]):
			return 0, 0, fmt.Errorf("the API's CSV pages have different headers: %q, then %q", header, records[0])
		}
		if err := out.WriteAll(records[1:]); err != nil {
			return 0, 0, err
		}
		rows += len(records) - 1
		return len(records) - 1, -1, nil
	})
	out.Flush()
	if err == nil {
		err = out.Error()
	}
	return rows, err
}

// walk reads a list page by page. page handles one answer and says how many items it held
// and the list's total (-1 if the page does not say). The next page is the answer's Link
// rel="next"; an API that sends none is paged by offset, until a page is empty or the total
// is reached.
func (c *Client) walk(ctx context.Context, r request, page func(*answer) (n, total int, err error)) error {
	seen := map[string]bool{}
	done := 0
	for {
		a, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		seen[a.url.String()] = true
		n, total, err := page(a)
		if err != nil {
			return err
		}
		done += n
		next, err := c.nextLink(a)
		switch {
		case err != nil:
			return err
		case next != nil:
			r = request{method: r.method, next: next, header: r.header}
		case n == 0 || (total >= 0 && done >= total) || r.query == nil:
			return nil
		default:
			q := url.Values{}
			for k, v := range r.query {
				q[k] = v
			}
			q.Set("pagination[offset]", strconv.Itoa(done))
			r.query = q
		}
		if r.next != nil && seen[r.next.String()] {
			return fmt.Errorf("the API's next-page link %s repeats a page already read", r.next)
		}
	}
}

// nextLink is the answer's Link rel="next" (RFC 8288), resolved against the request's URL. It
// is always sent to the API's own scheme and host: the credential never goes elsewhere.
func (c *Client) nextLink(a *answer) (*url.URL, error) {
	for _, v := range a.header.Values("Link") {
		for _, l := range parseLinks(v) {
			if !slices.Contains(strings.Fields(strings.ToLower(l.rel)), "next") {
				continue
			}
			ref, err := url.Parse(l.target)
			if err != nil {
				return nil, fmt.Errorf("the API's next-page link %q is not a URL: %w", l.target, err)
			}
			u := a.url.ResolveReference(ref)
			u.Scheme, u.Host, u.User = c.BaseURL.Scheme, c.BaseURL.Host, nil
			return u, nil
		}
	}
	return nil, nil
}

type link struct{ target, rel string }

// parseLinks reads one Link header value: `<uri>; rel="next", <uri>; rel=prev`. A URI may
// hold commas and semicolons, so it is cut at its angle brackets, not at them.
func parseLinks(v string) []link {
	var out []link
	for {
		start := strings.IndexByte(v, '<')
		if start < 0 {
			return out
		}
		end := strings.IndexByte(v[start:], '>')
		if end < 0 {
			return out
		}
		l := link{target: v[start+1 : start+end]}
		v = v[start+end+1:]
		params := v
		if i := strings.IndexByte(v, '<'); i >= 0 {
			params = v[:i]
		}
		for _, p := range strings.Split(params, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "rel") {
				l.rel = strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(value), ",")), `"`)
			}
		}
		out = append(out, l)
	}
}
