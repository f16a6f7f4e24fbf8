// Package vocab holds the words every context shares, owned by none of them: the sentinel
// errors that the families map to their own error shapes, and the actor that a record names
// as its creator. The Spot and Snap domains and the jobs engine all speak it; it imports
// nothing of ours.
package vocab

import "errors"

// Sentinel errors a store or service returns and a family's HTTP layer maps to a status.
var (
	// ErrNotFound: the record does not exist in the caller's workspace.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a concurrent change touched the same records; retrying the request is safe.
	ErrConflict = errors.New("concurrent change, retry")
	// ErrExists: a record to be created is there already (or a record it needs is missing).
	ErrExists = errors.New("already exists")
)

// Actor is who created or last changed a record.
type Actor struct {
	Type string // TenantUserActor | ParticipantActor | TenantActor | ApplicationActor | SystemActor
	ID   string
	Name string
}
