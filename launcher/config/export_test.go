package config

// For the external tests: the encoding/json reading the hand one is held to,
// and how one option's value reaches node's environment.
var (
	DecodeOptions = decodeOptions
	EnvValue      = envValue
)
