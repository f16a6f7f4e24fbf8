package localapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/participant-roster/roster/pkg/dev/app"
	"github.com/participant-roster/roster/pkg/dev/samtemplate"
	"github.com/participant-roster/roster/pkg/platform/lambdahttp"
)

// Invoker runs a route's function on the event API Gateway sends it and returns its response,
// as Lambda does: in this process (InProcess) or through the function's own bootstrap under
// the Lambda Runtime Interface Emulator (Emulated). An error is an invocation that gave no
// response (a panic, a crash, a timeout); the Server answers it with API Gateway's 500.
type Invoker interface {
	Invoke(ctx context.Context, logicalID string, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

// InProcess calls the routes' Lambda handlers in this process, each built once, as a warm
// Lambda keeps it.
type InProcess struct {
	handlers map[string]lambdahttp.Handler
}

// NewInProcess builds every route's handler. It fails if a route names a function the app has
// no handler for.
func NewInProcess(a *app.App, routes []samtemplate.HTTPRoute) (*InProcess, error) {
	p := &InProcess{handlers: map[string]lambdahttp.Handler{}}
	for _, r := range routes {
		if _, ok := p.handlers[r.LogicalID]; ok {
			continue
		}
		h, err := a.LambdaHandler(r.LogicalID)
		if err != nil {
			return nil, fmt.Errorf("template.yaml route %s %s: %w", r.Method, r.Path, err)
		}
		p.handlers[r.LogicalID] = h
	}
	return p, nil
}

// Invoke calls the function's handler; a panic is reported as the invocation's error, as the
// Lambda runtime reports it.
func (p *InProcess) Invoke(ctx context.Context, logicalID string, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	h, ok := p.handlers[logicalID]
	if !ok {
		return resp, fmt.Errorf("no handler for function %s", logicalID)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h(ctx, ev)
}

// Functions runs a function on a raw event and returns its raw answer; rie.Pool is one, with
// a warm emulator per function.
type Functions interface {
	Invoke(ctx context.Context, logicalID string, event []byte) ([]byte, error)
}

// Emulated sends each event, as JSON, to the function's bootstrap through Functions, and
// decodes its answer, as Lambda hands API Gateway the function's payload.
type Emulated struct {
	Functions Functions
}

// Invoke runs the function through its bootstrap.
func (e Emulated) Invoke(ctx context.Context, logicalID string, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	event, err := json.Marshal(ev)
	if err != nil {
		return resp, err
	}
	answer, err := e.Functions.Invoke(ctx, logicalID, event)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return resp, fmt.Errorf("%s answered what is not an HTTP API response: %w: %.200s", logicalID, err, answer)
	}
	return resp, nil
}
