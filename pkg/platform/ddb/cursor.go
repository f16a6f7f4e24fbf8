package ddb

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrBadCursor is a list cursor this partition did not make: malformed, of another version,
// or made for another partition (another workspace, list or filter).
var ErrBadCursor = errors.New("store: not a cursor of this list")

// A cursor names the last item of a page by its sort keys, never by its partition keys: the
// partition a cursor page reads always comes from the request (the credential's workspace and
// the list's filter), so a cursor cannot move a read to another tenant's or filter's items.
// A tag (the first 12 bytes of SHA-256 over the partition's index and key and the cursor's
// sort keys) makes a cursor of another partition, or an altered one, a 400 rather than a page
// that starts at an arbitrary place. It is a check, not a secret: a client that rebuilt it
// could only start its own list at a place of its choosing.
//
// Layout: "1" (the version) then base64url without padding of tag || sk [|| 0x00 || table sk].
// Sort keys here are ids (ASCII) and never hold a NUL byte.
const (
	cursorVersion = "1"
	cursorTagLen  = 12
)

func (p Partition) cursorTag(sortKeys string) []byte {
	sum := sha256.Sum256([]byte(p.Index + "\x00" + p.PK + "\x00" + sortKeys))
	return sum[:cursorTagLen]
}

// Cursor names the item with these sort keys as the last one read: its sort key in the
// partition and, for an index partition, its sort key in the table.
func (p Partition) Cursor(sortKeys ...string) string {
	keys := strings.Join(sortKeys, "\x00")
	b := append(p.cursorTag(keys), keys...)
	return cursorVersion + base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor checks that the partition made the cursor and returns its sort keys, as many as
// want. Anything else is ErrBadCursor.
func (p Partition) ParseCursor(c string, want int) ([]string, error) {
	if len(c) < 2 || !strings.HasPrefix(c, cursorVersion) {
		return nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c[len(cursorVersion):])
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != c[len(cursorVersion):] || len(b) <= cursorTagLen {
		return nil, ErrBadCursor
	}
	rest := string(b[cursorTagLen:])
	if subtle.ConstantTimeCompare(b[:cursorTagLen], p.cursorTag(rest)) != 1 {
		return nil, ErrBadCursor
	}
	if !utf8.ValidString(rest) {
		return nil, ErrBadCursor
	}
	keys := strings.Split(rest, "\x00")
	if len(keys) != want {
		return nil, ErrBadCursor
	}
	for _, k := range keys {
		if k == "" || k <= CountSK || len(k) > 1024 {
			return nil, ErrBadCursor
		}
	}
	return keys, nil
}

// CursorOf is the cursor that names it (a record of the partition) as the last one read.
func (p Partition) CursorOf(it Item) string {
	_, skAttr := p.keyAttrs()
	if p.Index == "" {
		return p.Cursor(str(it[skAttr]))
	}
	return p.Cursor(str(it[skAttr]), str(it[AttrSK]))
}

func str(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// startKey is the ExclusiveStartKey a cursor names: the partition keys from the partition
// itself (an index partition's ItemPK is its items' table partition), the sort keys from
// the cursor.
func (p Partition) startKey(c string) (Item, error) {
	want := 1
	if p.Index != "" {
		want = 2
		if p.ItemPK == "" {
			return nil, fmt.Errorf("store: partition %s has no ItemPK for cursors", p.PK)
		}
	}
	keys, err := p.ParseCursor(c, want)
	if err != nil {
		return nil, err
	}
	pkAttr, skAttr := p.keyAttrs()
	k := Item{pkAttr: S(p.PK), skAttr: S(keys[0])}
	if p.Index != "" {
		k[AttrPK], k[AttrSK] = S(p.ItemPK), S(keys[1])
	}
	return k, nil
}

// QueryAfter returns up to limit records of a partition that come after the item the cursor
// names, in sort-key (creation) order, the cursor of the page's last record if more follow
// ("" on the last page), and the partition's total from its counter item. The page's Query
// starts at the cursor (ExclusiveStartKey), so it reads only what it returns, wherever the
// cursor is; the total is one more Query, of the counter item alone (or of a counted list's
// index items), made at the same time. A cursor the partition
// did not make is ErrBadCursor.
func (t *Table) QueryAfter(ctx context.Context, part Partition, cursor string, limit int) ([]Item, string, int, error) {
	start, err := part.startKey(cursor)
	if err != nil {
		return nil, "", 0, err
	}
	var items []Item
	var next string
	total, err := t.besideTotal(ctx, part, func() (err error) {
		items, next, err = t.pageAfter(ctx, part, start, limit)
		return err
	})
	if err != nil {
		return nil, "", 0, err
	}
	return items, next, total, nil
}

// besideTotal runs read while it reads the partition's total (which does not depend on what
// read reads), and returns the total.
func (t *Table) besideTotal(ctx context.Context, part Partition, read func() error) (int, error) {
	var total int
	var countErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		total, countErr = t.countOf(ctx, part)
	}()
	err := read()
	<-counted
	return total, errors.Join(err, countErr)
}

// pageAfter reads up to limit records after start, and the cursor of the last one when more
// follow.
func (t *Table) pageAfter(ctx context.Context, part Partition, start Item, limit int) ([]Item, string, error) {
	in := part.Query(t.TableName)
	in.ExclusiveStartKey = start
	var out []Item
	for {
		// One more than the page, to know whether a next page exists.
		in.Limit = aws.Int32(int32(limit + 1 - len(out)))
		res, err := t.Client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("store: query %s: %w", part.PK, err)
		}
		for _, it := range res.Items {
			if _, isCounter := part.count(it); !isCounter {
				out = append(out, it)
			}
		}
		if len(out) > limit {
			out = out[:limit]
			return out, part.CursorOf(out[limit-1]), nil
		}
		if res.LastEvaluatedKey == nil {
			return out, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// countOf reads the partition's total from its counter item alone, or a counted list's from
// its bucket counts.
func (t *Table) countOf(ctx context.Context, part Partition) (int, error) {
	if part.Counted.Name != "" {
		total, _, _, err := t.Locate(ctx, part.Counted, 0)
		return total, err
	}
	in := part.Query(t.TableName)
	_, skAttr := part.keyAttrs()
	in.KeyConditionExpression = aws.String("#pk = :pk AND #sk = :count")
	in.ExpressionAttributeNames["#sk"] = skAttr
	in.ExpressionAttributeValues[":count"] = S(CountSK)
	in.Limit = aws.Int32(1)
	res, err := t.Client.Query(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", part.PK, err)
	}
	for _, it := range res.Items {
		if n, isCounter := part.count(it); isCounter {
			return n, nil
		}
	}
	return 0, nil
}
