package spotstore

import (
	"github.com/participant-roster/roster/pkg/platform/auth"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/spot/screening"
)

// Item types as stored. Times are RFC 3339 UTC strings with nanoseconds.

type workspaceItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	CreatedAt string `dynamodbav:"createdAt"`
}

type keyItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	GSI1PK      string `dynamodbav:"gsi1pk"`
	GSI1SK      string `dynamodbav:"gsi1sk"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	WorkspaceID string `dynamodbav:"workspaceId"`
	Name        string `dynamodbav:"name"`
	SecretHash  string `dynamodbav:"secretHash"`
	Revoked     bool   `dynamodbav:"revoked"`
	CreatedAt   string `dynamodbav:"createdAt"`
}

type participantItem struct {
	PK          string            `dynamodbav:"pk"`
	SK          string            `dynamodbav:"sk"`
	GSI2PK      string            `dynamodbav:"gsi2pk"`
	GSI2SK      string            `dynamodbav:"gsi2sk"`
	Seq         int64             `dynamodbav:"seq"`
	Type        string            `dynamodbav:"type"`
	ID          string            `dynamodbav:"id"`
	ExternalUID string            `dynamodbav:"externalUid,omitempty"`
	Email       string            `dynamodbav:"email"`
	Name        string            `dynamodbav:"name"`
	CreatedBy   *ddb.ActorAttr    `dynamodbav:"createdBy,omitempty"`
	CreatedAt   string            `dynamodbav:"createdAt"`
	UpdatedBy   *ddb.ActorAttr    `dynamodbav:"updatedBy,omitempty"`
	UpdatedAt   string            `dynamodbav:"updatedAt"`
	Links       map[string]string `dynamodbav:"links"`
	Version     int64             `dynamodbav:"version"`
	// ClaimedUntil is the end (unix milliseconds) of the marker claim under which an import
	// chunk wrote the participant without a condition (ApplyChunk); 0 for one written in a
	// transaction.
	ClaimedUntil int64 `dynamodbav:"claimedUntil,omitempty"`
}

// screenerItem also sits, as the counter, at the head of its roster (gsi1) and its sessions
// (gsi2) partitions.
type screenerItem struct {
	PK                  string         `dynamodbav:"pk"`
	SK                  string         `dynamodbav:"sk"`
	GSI1PK              string         `dynamodbav:"gsi1pk"`
	GSI1SK              string         `dynamodbav:"gsi1sk"`
	GSI2PK              string         `dynamodbav:"gsi2pk"`
	GSI2SK              string         `dynamodbav:"gsi2sk"`
	Type                string         `dynamodbav:"type"`
	ID                  string         `dynamodbav:"id"`
	Title               string         `dynamodbav:"title"`
	Description         *string        `dynamodbav:"description,omitempty"`
	ActivePublicationID *string        `dynamodbav:"activePublicationId,omitempty"`
	CreatedBy           *ddb.ActorAttr `dynamodbav:"createdBy,omitempty"`
	CreatedAt           string         `dynamodbav:"createdAt"`
	UpdatedBy           *ddb.ActorAttr `dynamodbav:"updatedBy,omitempty"`
	UpdatedAt           string         `dynamodbav:"updatedAt"`
	SessionCount        int            `dynamodbav:"sessionCount"`
}

type screenerParticipantItem struct {
	PK              string `dynamodbav:"pk"`
	SK              string `dynamodbav:"sk"`
	GSI1PK          string `dynamodbav:"gsi1pk"`
	GSI1SK          string `dynamodbav:"gsi1sk"`
	Seq             int64  `dynamodbav:"seq"`
	Type            string `dynamodbav:"type"`
	ID              string `dynamodbav:"id"`
	ScreenerID      string `dynamodbav:"screenerId"`
	ParticipantID   string `dynamodbav:"participantId"`
	ExternalUID     string `dynamodbav:"externalUid,omitempty"`
	Name            string `dynamodbav:"name"`
	Email           string `dynamodbav:"email"`
	CreatedAt       string `dynamodbav:"createdAt"`
	LatestSessionID string `dynamodbav:"latestSessionId,omitempty"`
	LatestState     string `dynamodbav:"latestState,omitempty"`
	LatestOutcome   string `dynamodbav:"latestOutcome,omitempty"`
}

type sessionItem struct {
	PK                    string  `dynamodbav:"pk"`
	SK                    string  `dynamodbav:"sk"`
	GSI1PK                string  `dynamodbav:"gsi1pk"`
	GSI1SK                string  `dynamodbav:"gsi1sk"`
	GSI2PK                string  `dynamodbav:"gsi2pk"`
	GSI2SK                string  `dynamodbav:"gsi2sk"`
	Type                  string  `dynamodbav:"type"`
	ID                    string  `dynamodbav:"id"`
	ScreenerID            string  `dynamodbav:"screenerId"`
	ScreenerParticipantID string  `dynamodbav:"screenerParticipantId"`
	PublicationID         *string `dynamodbav:"publicationId,omitempty"`
	LinkSlug              string  `dynamodbav:"linkSlug"`
	State                 string  `dynamodbav:"state"`
	Outcome               string  `dynamodbav:"outcome,omitempty"`
	StartedAt             string  `dynamodbav:"startedAt"`
	LastActiveAt          string  `dynamodbav:"lastActiveAt"`
	CompletedAt           string  `dynamodbav:"completedAt,omitempty"`
}

// newParticipantItem is a new participant at place seq of its workspace's list (gsi2).
func newParticipantItem(w string, p screening.Participant, seq int64) participantItem {
	k := participantKey(w, p.ID)
	links := p.Links
	if links == nil {
		links = map[string]string{} // a map attribute must exist for SET links.#scr to work
	}
	return participantItem{
		PK: k.PK, SK: k.SK, GSI2PK: k.PK, GSI2SK: ddb.SeqKey(seq), Seq: seq, Type: "Participant", ID: p.ID, ExternalUID: p.ExternalUID,
		Email: p.Email, Name: p.Name, CreatedBy: ddb.ToActorAttr(p.CreatedBy), CreatedAt: ddb.FmtTime(p.CreatedAt),
		UpdatedBy: ddb.ToActorAttr(p.UpdatedBy), UpdatedAt: ddb.FmtTime(p.UpdatedAt), Links: links, Version: 1,
	}
}

func (it participantItem) domain() screening.Participant {
	return screening.Participant{
		ID: it.ID, ExternalUID: it.ExternalUID, Email: it.Email, Name: it.Name,
		CreatedBy: ddb.FromActorAttr(it.CreatedBy), CreatedAt: ddb.ParseTime(it.CreatedAt),
		UpdatedBy: ddb.FromActorAttr(it.UpdatedBy), UpdatedAt: ddb.ParseTime(it.UpdatedAt),
		Links: it.Links, Version: it.Version,
	}
}

func newScreenerItem(w string, s screening.Screener) screenerItem {
	k := screenerKey(w, s.ID)
	return screenerItem{
		PK: k.PK, SK: k.SK, GSI1PK: screenerRosterPartition(w, s.ID), GSI1SK: ddb.CountSK,
		GSI2PK: screenerSessionsPartition(w, s.ID), GSI2SK: ddb.CountSK, Type: "Screener", ID: s.ID, Title: s.Title, Description: s.Description,
		ActivePublicationID: s.ActivePublicationID, CreatedBy: ddb.ToActorAttr(s.CreatedBy), CreatedAt: ddb.FmtTime(s.CreatedAt),
		UpdatedBy: ddb.ToActorAttr(s.UpdatedBy), UpdatedAt: ddb.FmtTime(s.UpdatedAt),
	}
}

func (it screenerItem) domain() screening.Screener {
	return screening.Screener{
		ID: it.ID, Title: it.Title, Description: it.Description, ActivePublicationID: it.ActivePublicationID,
		CreatedBy: ddb.FromActorAttr(it.CreatedBy), CreatedAt: ddb.ParseTime(it.CreatedAt),
		UpdatedBy: ddb.FromActorAttr(it.UpdatedBy), UpdatedAt: ddb.ParseTime(it.UpdatedAt),
	}
}

// newScreenerParticipantItem is a new screener participant at place sp.Seq of its screener's
// roster (gsi1).
func newScreenerParticipantItem(w string, sp screening.ScreenerParticipant) screenerParticipantItem {
	k := screenerParticipantKey(w, sp.ID)
	return screenerParticipantItem{
		PK: k.PK, SK: k.SK, GSI1PK: screenerRosterPartition(w, sp.ScreenerID), GSI1SK: ddb.SeqKey(sp.Seq), Seq: sp.Seq,
		Type: "ScreenerParticipant", ID: sp.ID, ScreenerID: sp.ScreenerID, ParticipantID: sp.ParticipantID,
		ExternalUID: sp.ExternalUID, Name: sp.Name, Email: sp.Email, CreatedAt: ddb.FmtTime(sp.CreatedAt),
	}
}

func (it screenerParticipantItem) domain() screening.ScreenerParticipant {
	sp := screening.ScreenerParticipant{
		ID: it.ID, ScreenerID: it.ScreenerID, ParticipantID: it.ParticipantID, ExternalUID: it.ExternalUID,
		Name: it.Name, Email: it.Email, CreatedAt: ddb.ParseTime(it.CreatedAt), Seq: it.Seq,
	}
	if it.LatestSessionID != "" {
		sp.Latest = &screening.LatestSession{
			ID: it.LatestSessionID, State: screening.SessionState(it.LatestState), Outcome: screening.Outcome(it.LatestOutcome),
		}
	}
	return sp
}

func newSessionItem(w string, s screening.Session) sessionItem {
	k := sessionKey(w, s.ID)
	it := sessionItem{
		PK: k.PK, SK: k.SK, GSI1PK: participantSessionsPartition(w, s.ScreenerParticipantID), GSI1SK: s.ID,
		GSI2PK: screenerSessionsPartition(w, s.ScreenerID), GSI2SK: s.ID,
		Type: "ScreenerSession", ID: s.ID, ScreenerID: s.ScreenerID, ScreenerParticipantID: s.ScreenerParticipantID,
		PublicationID: s.PublicationID, LinkSlug: s.LinkSlug, State: string(s.State), Outcome: string(s.Outcome),
		StartedAt: ddb.FmtTime(s.StartedAt), LastActiveAt: ddb.FmtTime(s.LastActiveAt),
	}
	if s.CompletedAt != nil {
		it.CompletedAt = ddb.FmtTime(*s.CompletedAt)
	}
	return it
}

func (it sessionItem) domain() screening.Session {
	s := screening.Session{
		ID: it.ID, ScreenerID: it.ScreenerID, ScreenerParticipantID: it.ScreenerParticipantID,
		PublicationID: it.PublicationID, LinkSlug: it.LinkSlug, State: screening.SessionState(it.State),
		Outcome: screening.Outcome(it.Outcome), StartedAt: ddb.ParseTime(it.StartedAt), LastActiveAt: ddb.ParseTime(it.LastActiveAt),
	}
	if it.CompletedAt != "" {
		t := ddb.ParseTime(it.CompletedAt)
		s.CompletedAt = &t
	}
	return s
}

func (it keyItem) domain() auth.Key {
	return auth.Key{
		ID: it.ID, WorkspaceID: it.WorkspaceID, Name: it.Name, SecretHash: it.SecretHash,
		Revoked: it.Revoked, CreatedAt: ddb.ParseTime(it.CreatedAt),
	}
}
