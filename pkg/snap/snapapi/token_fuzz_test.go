package snapapi

import (
	"testing"

	"github.com/participant-roster/roster/pkg/platform/ids"
)

// FuzzDecodeToken: any startingFrom decodes to a valid record id, to the start, or is
// rejected; never a panic, and every token we make decodes to what it was made from.
func FuzzDecodeToken(f *testing.F) {
	made := EncodeToken(ids.New(ids.SnapParticipant))
	for _, seed := range []string{"0", "", made, made + "x", "cDE6", "%%%", "p1:sptp_01jd3m00000000000000000000", EncodeToken("sptp_123"), EncodeToken("resp_01jd3m00000000000000000000")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		after, ok := DecodeToken(token, ids.SnapParticipant)
		if !ok {
			return
		}
		if after != "" && !ids.Valid(ids.SnapParticipant, after) {
			t.Fatalf("token %q decoded to %q, not a participant id", token, after)
		}
		if after != "" {
			if back, ok := DecodeToken(EncodeToken(after), ids.SnapParticipant); !ok || back != after {
				t.Fatalf("round trip of %q gave %q", after, back)
			}
		}
	})
}
