package routes_test

import (
	"reflect"
	"testing"

	"github.com/participant-roster/roster/pkg/platform/routes"
)

var table = []routes.Route{
	{Method: "GET", Path: "/things"},
	{Method: "GET", Path: "/things/{id}"},
	{Method: "DELETE", Path: "/things/{id}"},
	{Method: "GET", Path: "/things/{id}/parts"},
	{Method: "GET", Path: "/things/{id}/parts/{part}"},
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		route        int // index in table, -1 for none
		params       []routes.Param
		allow        []string
	}{
		{"GET", "/nothing", -1, nil, nil},
		{"GET", "/things/", -1, nil, nil}, // an empty segment is no id
		{"POST", "/things", -1, nil, []string{"GET"}},
		{"PUT", "/things/a", -1, nil, []string{"GET", "DELETE"}},
		{"GET", "/things/a%2Fb", 1, []routes.Param{{"id", "a/b"}}, nil},     // rawPath encoded
		{"GET", "/things/a/b", 1, []routes.Param{{"id", "a/b"}}, nil},       // rawPath decoded
		{"GET", "/things//", 1, []routes.Param{{"id", "/"}}, nil},           // "/things/%2F" decoded
		{"DELETE", "/things/%2F", 2, []routes.Param{{"id", "/"}}, nil},      // the method picks the route
		{"PUT", "/things/a%2Fb", -1, nil, []string{"GET", "DELETE"}},        // 405 for a slash id too
		{"GET", "/things/a/b/parts", 3, []routes.Param{{"id", "a/b"}}, nil}, // more literals win over /things/{id}
		{"GET", "/things/a/parts/b/c", 4, []routes.Param{{"id", "a"}, {"part", "b/c"}}, nil},
		{"GET", "/things/%zz", -1, nil, nil}, // cannot be decoded
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			u := routes.Resolve(table, tc.method, tc.path)
			switch {
			case tc.route < 0 && u.Route != nil:
				t.Errorf("route %s, want none", u.Route.Pattern())
			case tc.route >= 0 && (u.Route == nil || *u.Route != table[tc.route]):
				t.Errorf("route %v, want %s", u.Route, table[tc.route].Pattern())
			}
			if !reflect.DeepEqual(u.Params, tc.params) || !reflect.DeepEqual(u.Allow, tc.allow) {
				t.Errorf("params %v allow %v, want %v %v", u.Params, u.Allow, tc.params, tc.allow)
			}
		})
	}
}

func TestSlashParam(t *testing.T) {
	u := routes.Unmatched{Params: []routes.Param{{"id", "a"}, {"part", "b/c"}, {"x", "d/e"}}}
	if p, ok := u.SlashParam(); !ok || p.Name != "part" {
		t.Errorf("SlashParam = %v %v, want part", p, ok)
	}
	if _, ok := (routes.Unmatched{Params: []routes.Param{{"id", "a"}}}).SlashParam(); ok {
		t.Error("SlashParam found a slash in \"a\"")
	}
}

func TestDefaultRoute(t *testing.T) {
	r := routes.Default.Route()
	if r.Method != "ANY" || r.Path != routes.DefaultPath || r.LogicalID != routes.Default.LogicalID || r.Dir != routes.Default.Dir {
		t.Errorf("Default.Route() = %+v", r)
	}
}
