//go:build race

package api

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop items at random and changes allocation figures.
const raceEnabled = true
