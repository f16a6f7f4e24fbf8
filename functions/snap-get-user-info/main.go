// Command snap-get-user-info is the SnapGetUserInfoFunction Lambda: it only wires; see pkg/app.
package main

import "github.com/participant-roster/roster/pkg/app"

func main() { app.Main("SnapGetUserInfoFunction") }
