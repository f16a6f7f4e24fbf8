package spotstore

import (
	"reflect"
	"testing"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

// A ledger expires by the table's one time-to-live attribute (template.yaml's, ddb.TTLAttribute);
// its struct tag cannot name the constant, so this holds the two together.
func TestLedgerExpiresByTheTableTTL(t *testing.T) {
	f, ok := reflect.TypeOf(ledgerItem{}).FieldByName("TTL")
	if !ok {
		t.Fatal("ledgerItem has no TTL field")
	}
	if tag := f.Tag.Get("dynamodbav"); tag != ddb.TTLAttribute {
		t.Errorf("ledgerItem.TTL is stored as %q, want the table's TTL attribute %q", tag, ddb.TTLAttribute)
	}
}
