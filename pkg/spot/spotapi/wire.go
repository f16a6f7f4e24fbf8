package spotapi

import (
	"time"

	"github.com/participant-roster/roster/pkg/spot/screening"
	"github.com/participant-roster/roster/pkg/vocab"
)

// Wire models of the Spot Thought family, field for field as the vendor documents them.

const timeLayout = "2006-01-02T15:04:05.000Z"

func wireTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type actorJSON struct {
	Type string `json:"_type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

func toActor(a *vocab.Actor) *actorJSON {
	if a == nil {
		return nil
	}
	return &actorJSON{Type: a.Type, ID: a.ID, Name: a.Name}
}

type screenerParticipantJSON struct {
	Type                   string  `json:"_type"`
	ID                     string  `json:"id"`
	ScreenerID             string  `json:"screenerId"`
	ParticipantID          string  `json:"participantId"`
	ExternalParticipantUID string  `json:"externalParticipantUid,omitempty"`
	CurrentSessionID       *string `json:"currentSessionId"`
	Name                   string  `json:"name"`
	Email                  string  `json:"email"`
	Status                 string  `json:"status"`
}

func toScreenerParticipant(sp screening.ScreenerParticipant) screenerParticipantJSON {
	return screenerParticipantJSON{
		Type: "ScreenerParticipant", ID: sp.ID, ScreenerID: sp.ScreenerID, ParticipantID: sp.ParticipantID,
		ExternalParticipantUID: sp.ExternalUID, CurrentSessionID: nullable(sp.CurrentSessionID()),
		Name: sp.Name, Email: sp.Email, Status: string(sp.Status()),
	}
}

type participantJSON struct {
	Type        string     `json:"_type"`
	ID          string     `json:"id"`
	ExternalUID *string    `json:"externalUid"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	CreatedBy   *actorJSON `json:"createdBy"`
	CreatedAt   string     `json:"createdAt"`
	UpdatedBy   *actorJSON `json:"updatedBy"`
	UpdatedAt   string     `json:"updatedAt"`
}

func toParticipant(p screening.Participant) participantJSON {
	return participantJSON{
		Type: "Participant", ID: p.ID, ExternalUID: nullable(p.ExternalUID), Email: p.Email, Name: p.Name,
		CreatedBy: toActor(p.CreatedBy), CreatedAt: wireTime(p.CreatedAt),
		UpdatedBy: toActor(p.UpdatedBy), UpdatedAt: wireTime(p.UpdatedAt),
	}
}

type screenerJSON struct {
	Type                string     `json:"_type"`
	ID                  string     `json:"id"`
	Title               string     `json:"title"`
	Description         *string    `json:"description"`
	ActivePublicationID *string    `json:"activePublicationId"`
	CreatedBy           *actorJSON `json:"createdBy"`
	CreatedAt           string     `json:"createdAt"`
	UpdatedBy           *actorJSON `json:"updatedBy"`
	UpdatedAt           string     `json:"updatedAt"`
}

func toScreener(s screening.Screener) screenerJSON {
	return screenerJSON{
		Type: "Screener", ID: s.ID, Title: s.Title, Description: s.Description, ActivePublicationID: s.ActivePublicationID,
		CreatedBy: toActor(s.CreatedBy), CreatedAt: wireTime(s.CreatedAt), UpdatedBy: toActor(s.UpdatedBy), UpdatedAt: wireTime(s.UpdatedAt),
	}
}

type tagJSON struct {
	Type     string  `json:"_type"`
	ID       string  `json:"id"`
	Category *string `json:"category"`
	Value    string  `json:"value"`
}

type sessionJSON struct {
	Type                  string    `json:"_type"`
	ID                    string    `json:"id"`
	ScreenerID            string    `json:"screenerId"`
	ScreenerParticipantID string    `json:"screenerParticipantId"`
	ScreenerPublicationID *string   `json:"screenerPublicationId"`
	ScreenerSessionLink   string    `json:"screenerSessionLink"`
	LinkSlug              string    `json:"linkSlug"`
	Status                string    `json:"status"`
	State                 string    `json:"state"`
	StartedAt             string    `json:"startedAt"`
	LastActiveAt          string    `json:"lastActiveAt"`
	CompletedAt           *string   `json:"completedAt"`
	AssignedTags          []tagJSON `json:"assignedTags"`
}

// SessionLinkBase is where participants open a screener session.
const SessionLinkBase = "https://screen.spot-thought.com/s/"

func toSession(s screening.Session) sessionJSON {
	out := sessionJSON{
		Type: "ScreenerSession", ID: s.ID, ScreenerID: s.ScreenerID, ScreenerParticipantID: s.ScreenerParticipantID,
		ScreenerPublicationID: s.PublicationID, ScreenerSessionLink: SessionLinkBase + s.LinkSlug, LinkSlug: s.LinkSlug,
		Status: "ACTIVE", State: string(s.State), StartedAt: wireTime(s.StartedAt), LastActiveAt: wireTime(s.LastActiveAt),
		AssignedTags: []tagJSON{},
	}
	if s.CompletedAt != nil {
		t := wireTime(*s.CompletedAt)
		out.CompletedAt = &t
	}
	if s.Outcome != screening.OutcomeNone {
		category := "screening"
		// The tag id is derived from the session so it is stable across reads.
		out.AssignedTags = append(out.AssignedTags, tagJSON{Type: "Tag", ID: "tag_" + s.ID + "_outcome", Category: &category, Value: string(s.Outcome)})
	}
	return out
}

type pageJSON[T any] struct {
	Type   string `json:"_type"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Items  []T    `json:"items"`
}

// spotPageJSON is a page of a Spot collection: the vendor's page shape plus our extension
// nextCursor (null on the last page), and offset null on a page read with a cursor (its
// position is not counted).
type spotPageJSON[T any] struct {
	Type       string  `json:"_type"`
	Total      int     `json:"total"`
	Limit      int     `json:"limit"`
	Offset     *int    `json:"offset"`
	NextCursor *string `json:"nextCursor"`
	Items      []T     `json:"items"`
}

func toPage[D any, T any](typeName string, list screening.List[D], p screening.Page, conv func(D) T) spotPageJSON[T] {
	items := make([]T, len(list.Items))
	for i, d := range list.Items {
		items[i] = conv(d)
	}
	var offset *int
	if p.Cursor == "" {
		offset = &p.Offset
	}
	return spotPageJSON[T]{Type: "Paginated" + typeName, Total: list.Total, Limit: p.Limit, Offset: offset,
		NextCursor: nullable(list.Next), Items: items}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
