//go:build !race

package chain

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop items at random and changes allocation figures.
const raceEnabled = false
