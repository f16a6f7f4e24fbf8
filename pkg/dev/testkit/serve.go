package testkit

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/participant-roster/roster/pkg/dev/localapi"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
)

// StartAPI serves template.yaml's HttpApi routes over the Env's app on a free local port, as
// `make run` does, until the test ends, and returns the API's base URL (http://127.0.0.1:port).
func (e *Env) StartAPI() string {
	e.T.Helper()
	root, err := samtemplate.FindRoot()
	if err != nil {
		e.T.Fatal(err)
	}
	routes, err := localapi.TemplateRoutes(root)
	if err != nil {
		e.T.Fatal(err)
	}
	srv, err := localapi.New(e.App, routes, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		e.T.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.T.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	e.T.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.T.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			e.T.Error("Serve did not return after its context was cancelled")
		}
	})
	return "http://" + l.Addr().String()
}
