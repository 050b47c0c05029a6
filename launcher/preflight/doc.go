// Package preflight proves, from the files alone, that node will load the
// app: the entry, node itself (found, its libraries there, its version,
// ABI, libc and architecture, which with the launcher's must be the
// image's programs' CPU), package.json's engines, what node
// preloads and what the app's scripts load at their top level (each found
// as node finds it, through
// packages' "exports", and read by the module system node reads it with,
// by node's version), and each native
// module (resolved as require() would, the binary its loader would pick,
// and whether that binary loads: CPU, libc, ABI or Node-API, libraries,
// symbol versions, arm64 code of a newer generation than the machine's
// CPU (ARMv8.1's atomics on an ARMv8.0 one), and with Deep every symbol).
// It says how to fix what would not load, in the Dockerfile's terms.
//
// It is pure: files in, a Report out. The only process it runs is node
// asked its version (`node --version`; again without the app's arguments,
// or without LD_PRELOAD, when it fails with them, to tell whose failure
// it is), through the Exec it is given (under supervision, the Reaper's). A passing report comes with its Record, everything it was
// made of; given back at a later Run, it is recalled while nothing of that
// changed (record.go). Keeping it is the caller's: this package writes
// nothing. Inside, the flow is one way: files.go is the only way to the
// disk, and notes what each access saw; elf.go reads ELF files
// defensively, libs.go searches libraries as musl's and glibc's loaders do,
// abi.go reads node's and addons' ABIs, atomics.go finds arm64 code built
// for ARMv8.1 and machine.go parses what the kernel says of the CPU it
// would run on (/proc/cpuinfo, read through files.go as every file is),
// loaders.go resolves packages and
// picks binaries as their loaders would (semver.go for engines),
// imports.go and exports.go follow the app's imports, names.go reads
// the names a module exports (a CommonJS one's as node's lexer finds
// them), tla.go finds an ES module's await at its top level (which
// require() cannot load), typescript.go judges the TypeScript node runs
// itself (by its version: stripped, or not run), builtin.go judges node's own modules by the
// release (from the table of package builtins), and preflight.go runs
// the checks;
// diagnose.go matches node's stderr after a failed start, and explains a
// death by SIGILL by the CPU.
// docs/NATIVE.md lists the facts it relies on.
//
// Non-goals: loading anything (no dlopen, no node -e), node's own code
// and the image's system libraries read for instructions (built for the
// architecture's baseline, and node's is too large to read at every
// start), x86 code read for instructions (AVX2 where a virtual machine
// hides it: the diagnosis explains that SIGILL instead), modules whose path
// is computed at run time, which no reading of files can see, and what
// only running the code shows (syntax errors, a name an ES module mentions
// without exporting it, an await at the top level that the scan cannot be
// sure of).
package preflight
