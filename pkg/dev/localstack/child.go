package localstack

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is a server process the local stack started: in its own process group (so a terminal
// Ctrl-C reaches the test or command, not the server, and Stop can signal the whole group),
// with the tail of its output kept for error messages, and reaped in the background.
type child struct {
	name    string
	cmd     *exec.Cmd
	out     *tailBuffer
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// startChild starts cmd, whose output must already go to out (through a sink).
func startChild(name string, cmd *exec.Cmd, out *tailBuffer) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: Stop signals the whole group (moto_server may be a pyenv shim
		// that execs Python; the group covers whatever it becomes).
		Setpgid: true,
		// The kernel sends SIGTERM to the child when the thread that started it dies, so a
		// killed test binary does not leak a server. (Go only retires threads of goroutines
		// that exit while locked with LockOSThread.)
		Pdeathsig: syscall.SIGTERM,
	}
	// Do not let Wait hang on the output pipe if something inherited it.
	cmd.WaitDelay = 2 * time.Second
	c := &child{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// waitReady polls answers every tick until it is true, the process dies (died describes
// that), startTimeout passes or ctx ends.
func (c *child) waitReady(ctx context.Context, endpoint string, tick time.Duration, answers func() bool, died func() error) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		if answers() {
			return nil
		}
		select {
		case <-c.exited:
			return died()
		case <-deadline.C:
			return fmt.Errorf("%s at %s not ready after %v; output:\n%s", c.name, endpoint, startTimeout, c.out)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; output:\n%s", c.name, ctx.Err(), c.out)
		case <-ticker.C:
		}
	}
}

// Stop terminates the process (SIGTERM to its process group, SIGKILL after a grace period)
// and waits for it to exit. It is safe to call more than once. It returns an error if the
// process had already died on its own, since then whatever used it probably saw failures.
func (c *child) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *child) stop() error {
	select {
	case <-c.exited:
		return fmt.Errorf("%s had exited before Stop (%v); output:\n%s", c.name, c.waitErr, c.out)
	default:
	}
	pgid := c.cmd.Process.Pid // Setpgid: the group id is the child's pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.exited:
		return nil // the exit status is the one we asked for; not an error
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-c.exited
	return nil
}
