package snapstore

// HoldKey is holdKey, for the tests of the hold item's life.
var HoldKey = holdKey
