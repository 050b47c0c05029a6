// Package inspector asks node's inspector where node's main thread is: it
// speaks the little of the Chrome DevTools Protocol, over the little of a
// WebSocket (RFC 6455), that pausing JavaScript once and reading its call
// frames takes. The launcher uses it on a node that stopped answering its
// health route while its main thread stays busy: the frames say where the
// event loop is held.
//
// Non-goals: a debugger. One session, one pause, then the connection
// closes and node's inspector resumes the script. No breakpoints, no
// evaluation, no TLS, no WebSocket extensions or subprotocols, no
// messages from the client beyond the two commands. What node sends is
// read strictly and bounded in size; ctx bounds it in time.
package inspector
