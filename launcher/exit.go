package launcher

// Exit codes the supervision decides besides the child's own.
const (
	ExitPreflight = 3   // a preflight check failed
	ExitNotFound  = 127 // `run -- CMD`: CMD not found, as a shell says
	ExitNoExec    = 126 // `run -- CMD`: CMD not executable
)
