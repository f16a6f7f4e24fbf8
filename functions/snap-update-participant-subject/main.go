// Command snap-update-participant-subject is the SnapUpdateParticipantSubjectFunction Lambda: it only wires; see pkg/wiring/snapwire.
package main

import "github.com/participant-roster/roster/pkg/wiring/snapwire"

func main() { snapwire.Main("SnapUpdateParticipantSubjectFunction") }
