//go:build !race

package pbftsim

const raceEnabled = false
