package snapstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/jobs"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
	"github.com/participant-roster/roster/pkg/snap/snapjobs"
	"github.com/participant-roster/roster/pkg/snap/survey"
	"github.com/participant-roster/roster/pkg/vocab"
)

// SnapImports is the Snap import chunks' store (snapjobs.Store) over this table.
func (s *Store) SnapImports() snapjobs.Store { return snapImports{s} }

type snapImports struct{ s *Store }

func (i snapImports) FindOwners(ctx context.Context, w, surveyID string, ps []survey.Participant) (snapjobs.Owners, error) {
	return i.s.findOwners(ctx, w, surveyID, ps)
}

func (i snapImports) AddImported(ctx context.Context, w, surveyID, jobID string, ps []survey.Participant) error {
	return i.s.addImported(ctx, w, surveyID, jobID, ps)
}

// findOwners reads, consistently, who holds each login and email the participants name.
func (s *Store) findOwners(ctx context.Context, w, surveyID string, ps []survey.Participant) (snapjobs.Owners, error) {
	var markers []ddb.Key
	for _, p := range ps {
		login, email := snapMarkers(w, surveyID, p)
		for _, k := range []*ddb.Key{login, email} {
			if k != nil {
				markers = append(markers, *k)
			}
		}
	}
	found, err := ddb.BatchGetAs[ddb.Marker](ctx, s.Table, markers)
	if err != nil {
		return snapjobs.Owners{}, err
	}
	var participantKeys []ddb.Key
	for _, m := range found {
		participantKeys = append(participantKeys, snapParticipantKey(w, surveyID, m.ParticipantID))
	}
	stored, err := ddb.BatchGetAs[snapParticipantItem](ctx, s.Table, participantKeys)
	if err != nil {
		return snapjobs.Owners{}, err
	}
	byID := map[string]survey.StoredParticipant{}
	for _, it := range stored {
		byID[it.SK] = it.stored()
	}
	owners := snapjobs.Owners{ByLogin: map[string]survey.StoredParticipant{}, ByEmail: map[string]survey.StoredParticipant{}}
	for _, m := range found {
		p, ok := byID[m.ParticipantID]
		if !ok {
			continue // a marker whose participant is gone cannot be: both go in one transaction
		}
		if strings.HasSuffix(m.PK, "#LOGIN") {
			owners.ByLogin[m.SK] = p
		} else {
			owners.ByEmail[m.SK] = p
		}
	}
	return owners, nil
}

// snapImportPerTransaction is how many participants one transaction of an import adds: each
// takes at most three items (participant, login, email), and the roster check takes one.
const snapImportPerTransaction = (ddb.MaxTransactItems - 1) / 3

// addImported adds new participants for an import that holds the survey's
// roster, many per transaction. jobs.ErrHoldLost: the job does not hold the roster (it ended).
// vocab.ErrConflict: a login or email was taken meanwhile (by another delivery of the same
// chunk); the transactions before the failed one stay written, so the caller re-reads and
// re-plans.
func (s *Store) addImported(ctx context.Context, w, surveyID, jobID string, ps []survey.Participant) error {
	for start := 0; start < len(ps); start += snapImportPerTransaction {
		ops := []types.TransactWriteItem{s.rosterHeldBy(w, surveyID, jobID)}
		for _, p := range ps[start:min(start+snapImportPerTransaction, len(ps))] {
			id := ids.New(ids.SnapParticipant)
			k := snapParticipantKey(w, surveyID, id)
			put, err := s.Put(snapParticipantItem{PK: k.PK, SK: k.SK, Type: "SnapParticipant", Participant: p, Version: 1}, "attribute_not_exists(pk)")
			if err != nil {
				return err
			}
			login, email := snapMarkers(w, surveyID, p)
			claims, err := s.claimMarkers(id, login, email)
			if err != nil {
				return err
			}
			ops = append(append(ops, put), claims.ops...)
		}
		if err := s.importTransact(ctx, surveyID, ops); err != nil {
			return err
		}
	}
	return nil
}

// importTransact runs one transaction of an import: jobs.ErrHoldLost if its first write, the
// check that the job holds the roster, fails; vocab.ErrConflict if another does.
func (s *Store) importTransact(ctx context.Context, surveyID string, ops []types.TransactWriteItem) error {
	failed, err := s.TransactConditional(ctx, ops)
	switch {
	case err != nil:
		return fmt.Errorf("store: import transaction of %d writes: %w", len(ops), err)
	case failed == 0:
		return fmt.Errorf("%w: survey %s", jobs.ErrHoldLost, surveyID)
	case failed > 0:
		return vocab.ErrConflict
	}
	return nil
}
