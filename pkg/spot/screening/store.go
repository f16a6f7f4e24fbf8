package screening

import "context"

// Store is what the domain needs from persistence. Every method is scoped to one workspace;
// records of other workspaces are vocab.ErrNotFound.
type Store interface {
	GetScreener(ctx context.Context, ws, id string) (Screener, error)
	ListScreeners(ctx context.Context, ws string, p Page) (List[Screener], error)
	GetParticipant(ctx context.Context, ws, id string) (Participant, error)
	ListParticipants(ctx context.Context, ws string, f ParticipantFilter, p Page) (List[Participant], error)
	GetScreenerParticipant(ctx context.Context, ws, id string) (ScreenerParticipant, error)
	ListScreenerParticipants(ctx context.Context, ws, screenerID string, p Page) (List[ScreenerParticipant], error)
	GetSession(ctx context.Context, ws, id string) (Session, error)
	ListSessions(ctx context.Context, ws string, f SessionFilter, p Page) (List[Session], error)

	// FindParticipantIDs resolves external uids and normalized emails to participant ids;
	// unknown ones are absent from the maps.
	FindParticipantIDs(ctx context.Context, ws string, externalUIDs, emails []string) (byUID, byEmail map[string]string, err error)
	// GetParticipants and GetScreenerParticipants read many records at once; missing ids are
	// absent from the map.
	GetParticipants(ctx context.Context, ws string, ids []string) (map[string]Participant, error)
	GetScreenerParticipants(ctx context.Context, ws string, ids []string) (map[string]ScreenerParticipant, error)
	// Roster lists every screener participant of a screener.
	Roster(ctx context.Context, ws, screenerID string) ([]ScreenerParticipant, error)
	// Apply writes the changes. Each change is atomic on its own; a change whose records moved
	// since they were read fails with vocab.ErrConflict.
	Apply(ctx context.Context, ws, screenerID string, changes []Change) error
	// ApplyChunk is Apply for one chunk of an import job, the same on every delivery. Its new
	// participants (each with its link) are written each on its own, with conditions that keep
	// email and external uid unique, and counted once whichever deliveries overlap; a row that
	// lost a race makes it vocab.ErrConflict once the rest are written. What a delivery cut
	// short wrote and did not count is counted when its job ends (SettleJob).
	ApplyChunk(ctx context.Context, ws, screenerID string, chunk ChunkID, changes []Change) error
	// SettleJob counts what any delivery of the job's chunks wrote and did not get to count
	// (a delivery cut short whose chunk then failed for good, or was lost): when the job ends.
	SettleJob(ctx context.Context, ws, screenerID, jobID string) error
}

// Change is what one import row (or one removal) does to the records of one participant.
// Exactly one of Create and Before is set.
type Change struct {
	// Create is a new tenant participant, written with its email and external uid markers.
	Create *Participant
	// Before and After are an existing participant as read and as it should be. After carries
	// the updated name, email and external uid, and Before.Version guards the write.
	Before, After *Participant
	// Link is a new screener participant for the participant in this screener.
	Link *ScreenerParticipant
	// Unlink removes the participant's screener participant in this screener.
	Unlink *ScreenerParticipant
	// Copies are screener participants of this participant (in any screener) whose copies of
	// name, email and external uid must follow After.
	Copies []string
}
